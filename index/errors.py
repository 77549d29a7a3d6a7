"""Errors the index raises; messages say what to do next."""


class TanyaError(Exception):
    """Base of every error Tanya reports to a user (CLI, API, UI)."""

    #: HTTP status the API maps this error to.
    status = 500


class IndexNotBuiltError(TanyaError):
    status = 503


class EmbedderMismatchError(TanyaError):
    status = 409


class IndexBusyError(TanyaError):
    status = 409


class GenerationGoneError(IndexNotBuiltError):
    """The collections being read were dropped: another process rebuilt the index."""


class StoreUnavailableError(TanyaError):
    status = 503


class EmbedderSpecError(TanyaError, ValueError):
    """An embedder spec (``--embedder``, ``TANYA_EMBEDDER``) that names no embedder."""

    status = 400


class EmbedderUnavailableError(TanyaError):
    """The embedder's model cannot be loaded on this machine."""

    status = 503


class CorpusError(TanyaError):
    status = 422


class DocumentNotFoundError(CorpusError):
    status = 404
