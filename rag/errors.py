"""The one error hierarchy of the package; each edge (CLI, HTTP) maps it once."""


class RagError(Exception):
    """Base of every error this package raises on purpose."""


class NotFound(RagError):
    """A named thing (document, collection) does not exist."""


class EmptyIndex(RagError):
    """A question was asked before any article was added."""


class InvalidInput(RagError):
    """The caller sent something we cannot use; the message says what."""


class UnsupportedFile(InvalidInput):
    """A file whose kind we cannot read."""


class PayloadTooLarge(InvalidInput):
    """Input above a configured size limit."""


class ConfigError(RagError):
    """Settings or installed files are wrong; the message says what to set."""


class IndexMismatch(ConfigError):
    """The index was built with another embedding model."""


class StoreError(RagError):
    """The vector store failed or is unreachable."""


class EmbeddingFailed(RagError):
    """The embedding model failed on an article; nothing of it was written."""


class UpstreamError(RagError):
    """A remote model server failed."""


class UpstreamTimeout(UpstreamError):
    """A remote or local model did not answer within the deadline."""


class RateLimited(UpstreamError):
    """The model server asked us to slow down; `retry_after` is its hint in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
