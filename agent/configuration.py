"""Configuration of the agent: planner, model, engine, database, thresholds, limits.

Read from the environment (CHATFACE_*, OPENAI_*), overridden by CLI flags or
by a LangGraph RunnableConfig's ``configurable`` section.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace


def _env_float(name: str, default: float | None) -> float | None:
    v = os.environ.get(name)
    return float(v) if v not in (None, "") else default


@dataclass(frozen=True)
class Configuration:
    planner: str = field(default_factory=lambda: os.environ.get("CHATFACE_PLANNER", "offline"))  # offline | openai
    model: str = field(default_factory=lambda: os.environ.get("CHATFACE_MODEL", "gpt-4o-mini"))
    base_url: str | None = field(default_factory=lambda: os.environ.get("OPENAI_BASE_URL") or None)
    api_key: str | None = field(default_factory=lambda: os.environ.get("OPENAI_API_KEY") or None)
    llm_timeout_s: float = field(default_factory=lambda: _env_float("CHATFACE_LLM_TIMEOUT", 60.0))
    llm_max_retries: int = field(default_factory=lambda: int(os.environ.get("CHATFACE_LLM_RETRIES", "2")))
    engine: str = field(default_factory=lambda: os.environ.get("CHATFACE_ENGINE", "offline"))
    models_dir: str | None = field(default_factory=lambda: os.environ.get("CHATFACE_MODELS") or None)  # diffusion engine weights
    device: str | None = field(default_factory=lambda: os.environ.get("CHATFACE_DEVICE") or None)
    dtype: str | None = field(default_factory=lambda: os.environ.get("CHATFACE_DTYPE") or None)
    # DDIM steps of the diffusion engine; None: the models folder's own (40 for Asyrp's networks), else 20
    steps: int | None = field(default_factory=lambda: int(os.environ.get("CHATFACE_STEPS") or 0) or None)
    database_url: str | None = field(default_factory=lambda: os.environ.get("CHATFACE_DATABASE_URL") or None)
    identity_distance: float | None = field(default_factory=lambda: _env_float("CHATFACE_IDENTITY_DISTANCE", None))
    direction_threshold: float = field(default_factory=lambda: _env_float("CHATFACE_DIRECTION_THRESHOLD", 0.1))
    max_attempts: int = field(default_factory=lambda: int(os.environ.get("CHATFACE_MAX_ATTEMPTS", "4")))
    recursion_limit: int = field(default_factory=lambda: int(os.environ.get("CHATFACE_RECURSION_LIMIT", "16")))
    use_embeddings: bool = field(default_factory=lambda: os.environ.get("CHATFACE_EMBEDDINGS", "1") != "0")

    def with_overrides(self, **overrides) -> "Configuration":
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if k in known and v is not None})

    @classmethod
    def from_runnable_config(cls, config: dict | None = None) -> "Configuration":
        configurable = (config or {}).get("configurable", {}) or {}
        return cls().with_overrides(**configurable)
