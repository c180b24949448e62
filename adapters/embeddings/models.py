"""The embedding models Chronicle knows by name, and ``EmbedderSlot``: one model, loaded once.

A model is chosen by name in settings (``CHRONICLE_EMBEDDING_MODEL``, with its dimension in
``CHRONICLE_EMBEDDING_DIMENSION``); a second model is one more adapter file and one more entry
in ``MODELS``. The slot loads its model on first use, from whichever thread asks first (the
reactor's, or a request's in the thread pool: never the event loop), and remembers why it could
not, so a deployment without the extra ``chronicle[semantic]`` answers with that reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from adapters.embeddings.port import Embedder, EmbedderUnavailable
from adapters.embeddings.use import UseEmbedder

OFF = "none"
MODELS: dict[str, Callable[[], Embedder]] = {"use-multilingual-v3": UseEmbedder}


class EmbedderSlot:
    """The configured embedding model, loaded at most once; ``get`` raises why it cannot be."""

    def __init__(
        self, model: str, dimension: int, *, factory: Callable[[], Embedder] | None = None
    ) -> None:
        self.model = model
        self.dimension = dimension
        self._factory = factory or MODELS.get(model)
        self._lock = threading.Lock()
        self._loaded: Embedder | None = None
        self._refusal: str | None = None
        if model == OFF:
            self._refusal = "meaning search is turned off (CHRONICLE_EMBEDDING_MODEL=none)"
        elif self._factory is None:
            known = ", ".join(sorted(MODELS))
            self._refusal = f"no embedding model is called {model!r}; the models are {known}"

    @property
    def configured(self) -> bool:
        """Whether a known model is configured (it may still fail to load)."""
        return self._factory is not None and self.model != OFF

    @property
    def available(self) -> bool:
        """Whether the model loads (loading it on first use)."""
        return self.reason() is None

    def get(self) -> Embedder:
        """The loaded model; ``EmbedderUnavailable`` (the same reason each time) if it cannot."""
        with self._lock:
            if self._loaded is None and self._refusal is None:
                self._load()
            if self._loaded is None:
                raise EmbedderUnavailable(self._refusal or "the model did not load")
            return self._loaded

    def reason(self) -> str | None:
        """Why the model cannot be used, having tried to load it; none when it can."""
        try:
            self.get()
        except EmbedderUnavailable as exc:
            return str(exc)
        return None

    def _load(self) -> None:
        assert self._factory is not None
        try:
            embedder = self._factory()
        except EmbedderUnavailable as exc:
            self._refusal = str(exc)
            return
        if embedder.dimension != self.dimension:
            self._refusal = (
                f"model {self.model} has {embedder.dimension} dimensions, the settings say "
                f"{self.dimension} (CHRONICLE_EMBEDDING_DIMENSION)"
            )
            return
        self._loaded = embedder
