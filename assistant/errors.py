"""Domain errors. Edges translate them: CLI -> one line and exit code, API -> JSON."""

from index.errors import (
    CorpusError,
    DocumentNotFoundError,
    EmbedderMismatchError,
    GenerationGoneError,
    IndexBusyError,
    IndexNotBuiltError,
    StoreUnavailableError,
    TanyaError,
)


class BadQuestionError(TanyaError):
    """The question cannot be answered as given (empty, too long, ...)."""

    status = 422


class LLMError(TanyaError):
    """The LLM backend failed or is unreachable."""

    status = 502


class LLMTimeoutError(LLMError):
    """The LLM backend did not answer in time: a gateway timeout, not a bad gateway."""

    status = 504


class ConfigError(TanyaError):
    """A setting or flag has a value Tanya cannot use."""

    status = 400


class BadDocumentError(CorpusError):
    """A posted or uploaded document that cannot be indexed; ``problems`` name each one
    (``file:line: reason``) so a dump's bad lines can be fixed in one go."""

    status = 422

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class UnsupportedFormatError(TanyaError):
    """A body or file type the document API does not read."""

    status = 415


__all__ = [
    "BadDocumentError",
    "BadQuestionError",
    "ConfigError",
    "CorpusError",
    "DocumentNotFoundError",
    "EmbedderMismatchError",
    "GenerationGoneError",
    "IndexBusyError",
    "IndexNotBuiltError",
    "LLMError",
    "LLMTimeoutError",
    "StoreUnavailableError",
    "TanyaError",
    "UnsupportedFormatError",
]
