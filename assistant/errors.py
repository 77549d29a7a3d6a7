"""Domain errors. Edges translate them: CLI -> one line and exit code, API -> JSON."""

from index.errors import (
    CorpusError,
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


__all__ = [
    "BadQuestionError",
    "ConfigError",
    "CorpusError",
    "EmbedderMismatchError",
    "GenerationGoneError",
    "IndexBusyError",
    "IndexNotBuiltError",
    "LLMError",
    "LLMTimeoutError",
    "StoreUnavailableError",
    "TanyaError",
]
