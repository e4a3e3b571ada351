"""all-MiniLM-L6-v2 sentence embeddings in numpy, so the offline planner needs no torch.

The model is a 6-layer BERT (hidden 384, 12 heads) with mean pooling and L2 normalisation
(sentence-transformers' all-MiniLM-L6-v2). Its weights are read straight from ``model.safetensors``
(the format is an 8-byte header length, a JSON header and raw little-endian tensors, so numpy reads
it without the safetensors package) and its text is split by the model's own ``tokenizer.json``
through the ``tokenizers`` library. The result matches sentence-transformers to float32 rounding
(tests/test_planner.py compares them where torch is installed). Loading takes a fraction of a
second and prints nothing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a numpy array (F32, F16 and BF16 read as float32)."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = raw[base + start : base + end]
        dtype = info["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(buf, dtype="<f4")
        elif dtype == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype == "I64":
            arr = np.frombuffer(buf, dtype="<i8")
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype}, which this reader does not handle")
        out[name] = arr.reshape(info["shape"])
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + float(eps)) * w + b


# Python floats, not numpy float64 scalars: under numpy 2's promotion rules a float64 scalar turns a float32 array into
# float64, and the matmuls of float64 activations with float32 weights then leave BLAS (about 10 times slower)
_SQRT_HALF = math.sqrt(0.5)


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))


class MiniLM:
    """``encode(texts) -> (n, 384)`` unit vectors, as SentenceTransformer(...).encode(normalize_embeddings=True)."""

    def __init__(self, model_dir: str | Path, max_length: int = 128) -> None:
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        # linear weights stored transposed and contiguous: x @ W.T through a strided view takes numpy's slow path
        self.w = {
            k.removeprefix("bert.") + (".T" if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else ""): (
                np.ascontiguousarray(v.T) if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else v
            )
            for k, v in read_safetensors(model_dir / "model.safetensors").items()
        }
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        n, t = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        d = x.shape[-1]
        hd = d // self.heads
        bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(h, name):
                flat = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight.T"] + w[p + name + ".bias"]
                return flat.reshape(*h.shape[:-1], -1)

            q = lin(x, "attention.self.query").reshape(n, t, self.heads, hd).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(n, t, self.heads, hd).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(n, t, self.heads, hd).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(hd)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
            x = _layer_norm(
                lin(a, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        encs = [self.tokenizer.encode(t) for t in texts]
        order = np.argsort([len(e.ids) for e in encs])  # similar lengths together: little padding
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for s in range(0, len(texts), batch_size):
            idx = order[s : s + batch_size]
            t = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), t), np.int64)
            mask = np.zeros((len(idx), t), np.int64)
            for r, i in enumerate(idx):
                ids[r, : len(encs[i].ids)] = encs[i].ids
                mask[r, : len(encs[i].ids)] = 1
            out[idx] = self._forward(ids, mask)
        return out
