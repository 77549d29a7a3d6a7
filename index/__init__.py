"""Documents in, chunks out: loading, chunking, embedders, the Chroma store, the manifest."""

from index.builder import BuildReport, IndexBuilder, build_lock, check_embedder
from index.chunking import Chunk, ChunkerConfig, Sentence, chunk_document, split_sentences
from index.documents import CorpusProblem, Document, bundled_documents, load_corpus
from index.embedders import DEFAULT_EMBEDDER, TanyaEmbeddings, make_embedder
from index.manifest import Manifest
from index.store import ChromaIndex, StoredPassage, open_client

__all__ = [
    "DEFAULT_EMBEDDER",
    "BuildReport",
    "ChromaIndex",
    "Chunk",
    "ChunkerConfig",
    "CorpusProblem",
    "Document",
    "IndexBuilder",
    "Manifest",
    "Sentence",
    "StoredPassage",
    "TanyaEmbeddings",
    "build_lock",
    "bundled_documents",
    "check_embedder",
    "chunk_document",
    "load_corpus",
    "make_embedder",
    "open_client",
    "split_sentences",
]
