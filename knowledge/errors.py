"""Every error the knowledge package raises, in one place.

    Exception
    ├── KnowledgeError              meant for a user: ``str(error)`` is one line; the CLI exits with ``exit_code``
    │   ├── ConfigError        (2)  a setting is missing or invalid (embeddings kind, port...)
    │   ├── StoreUnavailable   (3)  the Chroma server cannot be reached, or the local store cannot be opened
    │   ├── EmbedderMismatch   (4)  the collection was built with another embedder than the one configured
    │   ├── EmbedderError      (5)  the embedding model could not be loaded or called
    │   └── IngestError        (6)  a path given to ingest does not exist or cannot be read
    ├── SkipFile                    one file cannot be ingested (the message is the reason); the rest goes on
    ├── FetchError                  one URL could not be fetched (the message is the reason); the rest goes on
    ├── FrontMatterError            front matter is there but unreadable (a ValueError); the file is skipped
    └── CollectionGone              internal: a cached collection handle points at a dropped collection

Messages never contain secret values. The bot's own errors are in bot/errors.py.
"""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class: an error meant for a user, shown as one line."""

    exit_code = 1


class ConfigError(KnowledgeError):
    """A setting is missing or invalid (token, port, embeddings kind...)."""

    exit_code = 2


class StoreUnavailable(KnowledgeError):
    """The Chroma server cannot be reached, or the local store cannot be opened."""

    exit_code = 3


class EmbedderMismatch(KnowledgeError):
    """The collection was built with a different embedder than the one configured."""

    exit_code = 4


class EmbedderError(KnowledgeError):
    """The embedding model could not be loaded or called."""

    exit_code = 5


class IngestError(KnowledgeError):
    """A path given to ingest does not exist or cannot be read."""

    exit_code = 6


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the one-line reason."""


class FetchError(Exception):
    """A URL that could not be fetched; the message is the one-line reason."""


class FrontMatterError(ValueError):
    """Front matter that is there but cannot be read; the message is the one-line reason."""


class CollectionGone(Exception):
    """The cached collection handle points at a collection that was dropped."""

    def __str__(self) -> str:
        return f"collection {self.args[0]!r} does not exist any more"
