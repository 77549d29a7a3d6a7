"""``tanya reader train``: train the reader's adapter, reproducibly.

Fixed seeds, one thread pool of the machine's size, data hashed into the manifest.
Checkpoints every ``checkpoint_every`` steps so a stopped run resumes where it was.
Writes ``adapter.safetensors`` and ``adapter.json`` (the manifest: data hashes,
settings, development metrics, the adapter's own hash).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ConfigError
from assistant.reader.convert import read_manifest
from assistant.reader.data import (
    EXTRA_TRANSLATIONS,
    QA,
    TRANSLATIONS,
    Example,
    article_examples,
    facqa_examples,
    load_facqa,
)
from assistant.reader.decode import best_span
from assistant.reader.distill import cached_teacher_logits, distill_loss, padded
from assistant.reader.inputs import ReaderTokenizer, Window, batch
from assistant.reader.model import AdapterConfig

Log = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    epochs: int = 2
    batch_size: int = 16
    lr: float = 5e-4
    head_lr: float = 2e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    negatives: int = 2
    #: share of questions that also get a same-passage negative (a name swapped); 0 for
    #: the shipped adapter, which was trained before these existed (``--swapped``)
    swapped: float = 0.0
    #: share of questions that also get their own passage with the answer's sentence
    #: taken out, as a negative (``--withheld``)
    withheld: float = 0.0
    #: also train on ``data.EXTRA_TRANSLATIONS`` (``--extra-english``); off for the
    #: shipped adapter, trained before they existed
    extra_english: bool = False
    windows_per_example: int = 2
    checkpoint_every: int = 100
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    #: the article's question set trained on (the held-out and fresh sets never are)
    article_set: str = "ukraina"
    #: a trained reader's directory whose logits this one also learns (``--teacher``);
    #: empty: gold spans only, and the two settings below are unused
    teacher: str = ""
    #: the share of the loss that is the teacher's (the rest is the gold span's)
    distill: float = 0.5
    #: softens both distributions, so the teacher's near-misses carry weight
    temperature: float = 2.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Featurized:
    window: Window
    start: int  # 0 for no answer
    end: int


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def featurize(tokenizer: ReaderTokenizer, examples: Sequence[Example], per_example: int
              ) -> list[Featurized]:
    """Each example's windows, labelled with the answer's tokens (or 0, 0)."""
    out = []
    for ex in examples:
        windows = tokenizer.windows(ex.question, ex.context)
        labelled = []
        for w in windows:
            span = (w.token_span(ex.answer_start, ex.answer_start + len(ex.answer))
                    if ex.answerable else None)
            # A window that cuts the answer in half teaches nothing true: leave it out.
            if span is not None:
                whole = w.offsets[span[0]][0] <= ex.answer_start and w.offsets[span[1]][1] >= (
                    ex.answer_start + len(ex.answer))
                if not whole:
                    continue
            labelled.append(Featurized(w, *(span or (0, 0))))
        answered = [f for f in labelled if f.start > 0]
        rest = [f for f in labelled if f.start == 0]
        out.extend((answered + rest)[:per_example])
    return out


def build_examples(facqa_path: Path, seed: int, negatives: int, swapped: float,
                   withheld: float, article_set: str, log: Log, extra_english: bool = False
                   ) -> tuple[list[Example], list[QA], dict[str, str]]:
    """Training examples, the dev records, and the hashes of every input."""
    from eval.questionset import load_question_set
    from index.chunking import chunk_document
    from index.documents import bundled_documents
    from index.embedders import make_embedder

    embedder = make_embedder("e5-small-q4")
    translations = (TRANSLATIONS, EXTRA_TRANSLATIONS) if extra_english else (TRANSLATIONS,)
    records = load_facqa(facqa_path, translations)
    train = [r for r in records if r.split == "train"]
    dev = [r for r in records if r.split == "dev"]
    passages = sorted({r.passage for r in train})
    log(f"facqa: {len(train)} train questions ({sum(r.lang == 'en' for r in train)} English) "
        f"over {len(passages)} passages; {len(dev)} dev questions")
    embed_p = embedder.embed_passages(passages)
    embed_q = np.vstack([embedder.embed_question(r.question) for r in train])
    examples = facqa_examples(train, embed_q, embed_p, passages, seed, negatives, swapped,
                              withheld)

    qset = load_question_set(article_set)
    chunks = [c.text for doc in bundled_documents() for c in chunk_document(doc)]
    embed_c = embedder.embed_passages(chunks)
    vectors = np.vstack([embedder.embed_question(q.question) for q in qset.questions])
    retrieved = [[int(i) for i in np.argsort(-(embed_c @ v))[:3]] for v in vectors]
    examples += article_examples(qset.questions, chunks, retrieved)
    hashes = {"facqa": sha256_file(facqa_path), "translations": sha256_file(TRANSLATIONS),
              f"questionset:{article_set}": hashlib.sha256(
                  "\n".join(q.question for q in qset.questions).encode()).hexdigest()}
    if extra_english:
        hashes["translations_extra"] = sha256_file(EXTRA_TRANSLATIONS)
    return examples, dev, hashes


def dev_examples(dev: Sequence[QA], seed: int, negatives: int, swapped: float,
                 withheld: float) -> list[Example]:
    from index.embedders import make_embedder

    embedder = make_embedder("e5-small-q4")
    passages = sorted({r.passage for r in dev})
    embed_p = embedder.embed_passages(passages)
    embed_q = np.vstack([embedder.embed_question(r.question) for r in dev])
    return [e for e in facqa_examples(dev, embed_q, embed_p, passages, seed, negatives,
                                      swapped, withheld)
            if not e.source.endswith("-joined")]


def evaluate(model: Any, tokenizer: ReaderTokenizer, examples: Sequence[Example]
             ) -> dict[str, float]:
    """Span EM/F1 on answerable examples, and answerability AUROC, over dev examples."""
    import torch

    from eval.metrics import auroc, refused_at_false_rate, span_exact_match, span_f1

    model.eval()
    scores, labels, predictions, golds = [], [], [], []
    with torch.inference_mode():
        for ex in examples:
            windows = tokenizer.windows(ex.question, ex.context)
            ids, mask = batch(windows)
            start, end = model(torch.from_numpy(ids), torch.from_numpy(mask))
            best, text = -np.inf, ""
            for row, w in enumerate(windows):
                span = best_span(start[row].numpy(), end[row].numpy(), w.answer_mask)
                if span is not None and span.score > best:
                    s, e = w.char_span(span.first, span.last)
                    best, text = span.score, w.text[s:e]
            scores.append(best)
            labels.append(ex.answerable)
            if ex.answerable:
                predictions.append(text)
                golds.append(ex.answer)
    model.train()
    positives = [s for s, a in zip(scores, labels, strict=True) if a]
    negatives = [s for s, a in zip(scores, labels, strict=True) if not a]
    return {
        "span_em": float(np.mean([span_exact_match(p, g) for p, g in zip(predictions, golds,
                                                                          strict=True)])),
        "span_f1": float(np.mean([span_f1(p, g) for p, g in zip(predictions, golds,
                                                                 strict=True)])),
        "auroc": auroc(positives, negatives) or 0.0,
        "refused_at_5pct_false": refused_at_false_rate(positives, negatives) or 0.0,
        "answerable": len(positives), "unanswerable": len(negatives),
    }


def _loss(model: Any, items: Sequence[Featurized],
          teacher_logits: Sequence[np.ndarray] | None = None, distill: float = 0.0,
          temperature: float = 1.0) -> Any:
    """Cross-entropy on the gold start and end; with the teacher's logits, mixed with
    the distillation loss, which takes the ``distill`` share."""
    import torch

    ids, mask = batch([f.window for f in items])
    allowed = np.zeros(ids.shape, dtype=bool)
    for row, f in enumerate(items):
        allowed[row, : len(f.window.ids)] = f.window.answer_mask
    start, end = model(torch.from_numpy(ids), torch.from_numpy(mask))
    block = torch.from_numpy(~allowed)
    start = start.masked_fill(block, -1e4)
    end = end.masked_fill(block, -1e4)
    s_gold = torch.tensor([f.start for f in items])
    e_gold = torch.tensor([f.end for f in items])
    ce = torch.nn.functional.cross_entropy
    gold = (ce(start, s_gold) + ce(end, e_gold)) / 2
    if teacher_logits is None:
        return gold
    soft = distill_loss(start, end, torch.from_numpy(padded(teacher_logits, ids.shape[1])),
                        torch.from_numpy(allowed), temperature)
    return (1 - distill) * gold + distill * soft


def train(facqa_path: Path, model_dir: Path, out_dir: Path, config: TrainConfig,
          log: Log = print) -> dict[str, Any]:
    """Train, checkpointing into ``out_dir``; returns the manifest written beside the
    adapter."""
    import torch
    from safetensors.torch import save_file

    from assistant.reader.model import SpanReader, load_encoder

    started = time.time()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = ReaderTokenizer(model_dir / "tokenizer.json")
    examples, dev, hashes = build_examples(facqa_path, config.seed, config.negatives,
                                           config.swapped, config.withheld,
                                           config.article_set, log, config.extra_english)
    items = featurize(tokenizer, examples, config.windows_per_example)
    dev_set = dev_examples(dev, config.seed, 1, config.swapped, config.withheld)
    log(f"{len(examples)} examples -> {len(items)} windows "
        f"({sum(f.start > 0 for f in items)} answered); {len(dev_set)} dev examples")
    labels: list[np.ndarray] | None = None
    if config.teacher:
        labels, hashes["teacher"] = cached_teacher_logits(
            Path(config.teacher), model_dir, [f.window for f in items],
            out_dir / "teacher-logits.npz", log)

    model = SpanReader(load_encoder(model_dir), config.adapter)
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    lora = [p for n, p in model.named_parameters() if p.requires_grad
            and not n.startswith("head.")]
    optimizer = torch.optim.AdamW([{"params": lora, "lr": config.lr},
                                   {"params": head, "lr": config.head_lr}],
                                  weight_decay=config.weight_decay)
    order = _batches(items, config)
    total = len(order)
    warmup = max(1, int(total * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup,
                                    max(0.0, (total - step) / max(1, total - warmup))))
    step = 0
    checkpoint = out_dir / "checkpoint.pt"
    # What the loss learns from besides the gold spans; a run resumes only with the same.
    teaching = ({"teacher": hashes["teacher"], "distill": config.distill,
                 "temperature": config.temperature} if labels is not None else {})
    # What the examples were made from; a run resumes only on the same.
    data = {"hashes": {k: v for k, v in hashes.items() if k != "teacher"},
            "negatives": config.negatives, "swapped": config.swapped,
            "withheld": config.withheld, "seed": config.seed}
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        check_resumable(checkpoint, saved, teaching, data)
        try:
            model.load_adapter(saved["adapter"])
        except ValueError as exc:
            raise ConfigError(f"{checkpoint} is from a run with other adapter settings "
                             f"(--layers?): {exc}; remove it or train into another --out"
                             ) from None
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["rng"])
        step = saved["step"]
        log(f"resumed at step {step}/{total}")
    model.train()
    tick = time.time()
    while step < total:
        rows = order[step]
        loss = _loss(model, [items[i] for i in rows],
                     None if labels is None else [labels[i] for i in rows],
                     config.distill, config.temperature)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lora + head, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        if step % 20 == 0:
            rate = 20 / (time.time() - tick)
            tick = time.time()
            log(f"step {step}/{total} loss {loss.item():.3f} "
                f"({rate:.2f} steps/s, eta {(total - step) / rate / 60:.1f} min)")
        if step % config.checkpoint_every == 0 or step == total:
            torch.save({"adapter": model.adapter_state(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "rng": torch.get_rng_state(),
                        "step": step, "teaching": teaching, "data": data}, checkpoint)
    metrics = {lang: evaluate(model, tokenizer, [e for e in dev_set
                                                 if e.source.startswith(f"facqa-{lang}")])
               for lang in ("id", "en")}
    log(f"dev: {json.dumps(metrics)}")
    adapter_path = out_dir / "adapter.safetensors"
    save_file({k: v.to(torch.float16 if k.endswith(("lora_a", "lora_b")) else torch.float32)
               for k, v in model.adapter_state().items()}, str(adapter_path))
    manifest = {
        "format": 1,
        "base": read_manifest(model_dir) or {},
        "adapter_sha256": sha256_file(adapter_path),
        "data": hashes,
        "config": config.as_dict(),
        "examples": len(examples),
        "windows": len(items),
        "dev": metrics,
        "torch": torch.__version__,
        "train_seconds": round(time.time() - started, 1),
    }
    (out_dir / "adapter.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def check_resumable(checkpoint: Path, saved: dict[str, Any], teaching: dict[str, Any],
                    data: dict[str, Any]) -> None:
    """A checkpoint resumes only a run with the same teacher and the same examples: with
    other data (``--extra-english``, ``--swapped``...) the steps would not line up. A
    checkpoint from before data were recorded is taken as it is."""
    if saved.get("teaching", {}) != teaching:
        raise ConfigError(f"{checkpoint} is from a run with another teacher or --distill "
                          f"({saved.get('teaching') or 'none'}, now {teaching or 'none'})"
                          "; remove it or train into another --out")
    if "data" in saved and saved["data"] != data:
        changed = sorted(k for k in {*saved["data"], *data}
                         if saved["data"].get(k) != data.get(k))
        raise ConfigError(f"{checkpoint} is from a run on other training data (differs in: "
                          f"{', '.join(changed)}; --extra-english, --swapped, --withheld or "
                          "--seed?); remove it or train into another --out")


def _batches(items: Sequence[Featurized], config: TrainConfig) -> list[list[int]]:
    """Per epoch, shuffled batches of similar length (less padding), in shuffled order."""
    rng = random.Random(config.seed)
    out: list[list[int]] = []
    for _ in range(config.epochs):
        idx = list(range(len(items)))
        rng.shuffle(idx)
        # Sort within chunks of 50 batches by length, then shuffle the batches.
        span = config.batch_size * 50
        epoch = []
        for i in range(0, len(idx), span):
            part = sorted(idx[i:i + span], key=lambda j: len(items[j].window.ids))
            epoch += [part[k:k + config.batch_size]
                      for k in range(0, len(part), config.batch_size)]
        rng.shuffle(epoch)
        out += epoch
    return out
