"""The reader's same-passage negatives: a name the passage mentions, swapped for one it
never does."""

from __future__ import annotations

import random

from assistant.reader.data import names_in, swapped_question

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
