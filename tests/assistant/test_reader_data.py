"""The reader's same-passage negatives: a name the passage mentions, swapped for one it
never does; the passage with the answer's sentence taken out. And what ``tanya reader
train`` refuses before it builds any data (here because it needs no torch). And the
project's English translations: one question each, each of a FacQA question."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.reader.data import (
    EXTRA_TRANSLATIONS,
    TRANSLATIONS,
    load_facqa,
    names_in,
    question_id,
    swapped_question,
    withheld_passage,
)
from tests.support.facqa import FACQA

PASSAGE = ("Direktur Utama Perum Bulog Widjanarko Puspoyo mengatakan stok beras di Jawa "
           "Timur cukup hingga Maret.")


def test_names_are_capitalised_runs_that_do_not_open_the_question() -> None:
    assert names_in("Siapa Direktur Utama Perum Bulog?") == ["Direktur Utama Perum Bulog"]
    assert names_in("Who said the stock in East Java would last?") == ["East Java"]
    assert names_in("berapa stok beras?") == []


def test_a_swapped_question_names_something_the_passage_does_not() -> None:
    question = "Berapa lama stok beras di Jawa Timur cukup?"
    swapped = swapped_question(question, PASSAGE, ["Sulawesi Selatan", "Bulog"],
                               random.Random(0))
    # "Bulog" is in the passage, so only the other name can replace "Jawa Timur".
    assert swapped == "Berapa lama stok beras di Sulawesi Selatan cukup?"


def test_no_swap_when_the_question_names_nothing_the_passage_mentions() -> None:
    rng = random.Random(0)
    assert swapped_question("Berapa stok beras?", PASSAGE, ["Aceh"], rng) is None
    assert swapped_question("Berapa stok di Papua?", PASSAGE, ["Aceh"], rng) is None
    assert swapped_question("Berapa stok di Jawa Timur?", PASSAGE, [], rng) is None


TWO = ("Direktur Utama Perum Bulog Widjanarko Puspoyo mengatakan stok cukup. "
       "Bulog juga menyiapkan gudang baru di Surabaya.")


def test_withheld_passage_drops_the_sentence_that_holds_the_answer() -> None:
    start = TWO.index("Widjanarko Puspoyo")
    rest = withheld_passage(TWO, start, "Widjanarko Puspoyo")
    assert rest == "Bulog juga menyiapkan gudang baru di Surabaya."


def test_no_withheld_passage_when_nothing_is_left_or_the_answer_is_repeated() -> None:
    assert withheld_passage(PASSAGE, PASSAGE.index("Bulog"), "Bulog") is None
    # The answer is in the first sentence and again in the second: withholding one
    # sentence would leave an answerable passage labelled unanswerable.
    assert withheld_passage(TWO, TWO.index("Bulog"), "Bulog") is None
    # An answer across a sentence boundary takes both sentences out.
    across = TWO.index("cukup")
    assert withheld_passage(TWO, across, TWO[across:across + 12]) is None


@pytest.mark.parametrize("flag", ["--swapped", "--withheld"])
def test_train_refuses_a_share_outside_zero_to_one(
        flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facqa = tmp_path / "train.jsonl"
    facqa.write_text("{}\n")
    code = main(["reader", "train", "--facqa", str(facqa), "--out", str(tmp_path / "run"),
                 flag, "1.5"])
    assert code == 2
    assert f"{flag} must be between 0 and 1, not 1.5" in capsys.readouterr().err
    assert not (tmp_path / "run").exists(), "refused before training anything"


@pytest.mark.parametrize(("flags", "message"), [
    (["--distill", "0.5"], "--distill needs --teacher DIR"),
    (["--teacher", "T", "--distill", "2"], "--distill must be above 0 and at most 1, not 2.0"),
    (["--teacher", "T", "--distill", "0"], "--distill must be above 0 and at most 1, not 0.0"),
    (["--teacher", "T"], "--teacher {tmp}/T: the reader's adapter is missing from {tmp}/T; "
                         "pass the --out directory of a `tanya reader train` run "
                         "(adapter.safetensors and adapter.json), e.g. assistant/reader for "
                         "the shipped reader\n"),
    (["--teacher", "{tmp}/run"], "--teacher and --out are both {tmp}/run: the new adapter "
                                 "would overwrite its teacher"),
])
def test_train_refuses_a_teacher_it_cannot_use(
        flags: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    facqa = tmp_path / "train.jsonl"
    facqa.write_text("{}\n")
    flags = [str(tmp_path / f) if f == "T" else f.format(tmp=tmp_path) for f in flags]
    code = main(["reader", "train", "--facqa", str(facqa), "--out", str(tmp_path / "run"),
                 *flags])
    assert code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert not (tmp_path / "run").exists(), "refused before training anything"


def test_a_checkpoint_resumes_only_the_run_it_was_made_by(tmp_path: Path) -> None:
    from assistant.errors import ConfigError
    from assistant.reader.train import check_resumable

    data = {"hashes": {"facqa": "a", "translations": "b"}, "negatives": 2, "swapped": 0.0,
            "withheld": 0.0, "seed": 13}
    saved = {"teaching": {}, "data": data}
    check_resumable(tmp_path / "c.pt", saved, {}, dict(data))
    check_resumable(tmp_path / "c.pt", {"teaching": {}}, {}, data)  # made before data
    extra = {**data, "hashes": {**data["hashes"], "translations_extra": "c"}}
    with pytest.raises(ConfigError, match=r"other training data \(differs in: hashes;"):
        check_resumable(tmp_path / "c.pt", saved, {}, extra)
    with pytest.raises(ConfigError, match="differs in: swapped"):
        check_resumable(tmp_path / "c.pt", saved, {}, {**data, "swapped": 0.3})
    with pytest.raises(ConfigError, match="another teacher"):
        check_resumable(tmp_path / "c.pt", saved, {"teacher": "t"}, data)


# ------------------------------------------------------------------ the translations

FILES = (TRANSLATIONS, EXTRA_TRANSLATIONS)


def _translations(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_translation_is_one_english_question_under_a_unique_key(path: Path) -> None:
    rows = _translations(path)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), "a question is translated twice"
    for r in rows:
        assert set(r) == {"key", "en"}, r
        assert re.fullmatch(r"[0-9a-f]{12}", r["key"]), r
        assert r["en"].strip() and r["en"].rstrip().endswith("?"), r


def test_the_extra_translations_are_of_other_questions() -> None:
    shipped, extra = ({r["key"] for r in _translations(p)} for p in FILES)
    assert len(extra) == 517 and not shipped & extra


def test_with_the_extra_translations_every_training_question_has_english(
        tmp_path: Path) -> None:
    if not FACQA.is_file():
        pytest.skip(f"{FACQA} is missing: the translations cannot be matched to it")
    rows = [json.loads(line) for line in FACQA.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    known = {question_id(r["passage"], r["question"]) for r in rows}
    for path in FILES:
        orphans = [r for r in _translations(path) if r["key"] not in known]
        assert not orphans, f"{path.name}: {len(orphans)} match no FacQA question"
    for translations, english_train in (((TRANSLATIONS,), 560), (FILES, 1077)):
        records = [r for r in load_facqa(FACQA, translations) if r.split == "train"]
        assert sum(r.lang == "en" for r in records) == english_train
        assert sum(r.lang == "id" for r in records) == 1077
    # One file holding both gives the same records (the trained comparison used one).
    joined = tmp_path / "joined.jsonl"
    joined.write_text("".join(p.read_text(encoding="utf-8") for p in FILES), encoding="utf-8")
    assert load_facqa(FACQA, (joined,)) == load_facqa(FACQA, FILES)

    # The dev and test splits (the archive sets' questions) are the same either way.
    def held_out(translations: tuple[Path, ...]) -> list[tuple[str, str]]:
        return [(r.lang, r.question) for r in load_facqa(FACQA, translations)
                if r.split != "train"]
    assert held_out((TRANSLATIONS,)) == held_out(FILES)


def test_train_takes_the_extra_translations_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.reader.convert as convert
    import assistant.reader.train as training

    configs: list[training.TrainConfig] = []

    def fake_train(facqa: Path, model_dir: Path, out: Path, config: training.TrainConfig,
                   log: object = None) -> dict[str, object]:
        configs.append(config)
        return {"dev": {}}

    monkeypatch.setattr(convert, "ensure_converted", lambda cache: tmp_path)
    monkeypatch.setattr(training, "train", fake_train)
    facqa = tmp_path / "train.jsonl"
    facqa.write_text("{}\n")
    for flags in ([], ["--extra-english"]):
        assert main(["reader", "train", "--facqa", str(facqa), "--out",
                     str(tmp_path / "run"), *flags]) == 0
    assert [c.extra_english for c in configs] == [False, True]
