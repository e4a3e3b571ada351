"""The one configuration of chatface, and the one place that reads the environment.

Every entry point (CLI, web app, MCP server, LangChain toolkit, LangGraph
server, evaluator) builds a ``Configuration``: the environment (CHATFACE_*,
OPENAI_*) gives the defaults, CLI flags or a LangGraph RunnableConfig's
``configurable`` section override them. Nothing below this module reads
``os.environ``: models, memory and tools get their settings as arguments.

    CHATFACE_PLANNER, CHATFACE_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY, CHATFACE_LLM_TIMEOUT, CHATFACE_LLM_RETRIES
    CHATFACE_ENGINE, CHATFACE_FACE_INDEX, CHATFACE_MODELS, CHATFACE_DEVICE, CHATFACE_DTYPE, CHATFACE_STEPS
    CHATFACE_UNET, CHATFACE_MAPPINGS, CHATFACE_CLIP, CHATFACE_CLIP_PRETRAINED, CHATFACE_ARCFACE   (single parts)
    CHATFACE_DATABASE_URL, CHATFACE_HOME (where the default SQLite file lives)
    CHATFACE_IDENTITY_DISTANCE, CHATFACE_DIRECTION_THRESHOLD, CHATFACE_MAX_ATTEMPTS
    CHATFACE_RECURSION_LIMIT, CHATFACE_EMBEDDINGS
    CHATFACE_OWNER, CHATFACE_ALLOW_DIRS (os.pathsep-separated; the LangGraph server's photos)
    CHATFACE_MAX_UPLOAD_MB, CHATFACE_MAX_MEGAPIXELS, CHATFACE_MAX_SESSIONS_PER_USER, CHATFACE_QUEUE_SIZE, CHATFACE_CACHE_MB
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import overload


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    v = os.environ.get(name)
    return v if v not in (None, "") else default


def _env_number(name: str, default, kind: type, what: str):
    v = _env(name)
    try:
        return kind(v) if v is not None else default
    except ValueError:
        raise ValueError(f"{name}={v!r} is not {what}") from None


@overload
def _env_float(name: str, default: float) -> float: ...
@overload
def _env_float(name: str, default: None) -> float | None: ...
def _env_float(name: str, default: float | None) -> float | None:
    return _env_number(name, default, float, "a number")


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


RUN_SETTINGS = frozenset({"model", "recursion_limit", "max_attempts", "identity_distance", "direction_threshold"})


@dataclass(frozen=True)
class Configuration:
    # the planner
    planner: str = field(default_factory=lambda: _env("CHATFACE_PLANNER", "offline"))  # offline | openai
    model: str = field(default_factory=lambda: _env("CHATFACE_MODEL", "gpt-4o-mini"))
    base_url: str | None = field(default_factory=lambda: _env("OPENAI_BASE_URL"))
    api_key: str | None = field(default_factory=lambda: _env("OPENAI_API_KEY"))
    llm_timeout_s: float = field(default_factory=lambda: _env_float("CHATFACE_LLM_TIMEOUT", 60.0))
    llm_max_retries: int = field(default_factory=lambda: _env_int("CHATFACE_LLM_RETRIES", 2))
    use_embeddings: bool = field(default_factory=lambda: _env("CHATFACE_EMBEDDINGS", "1") != "0")
    recursion_limit: int = field(default_factory=lambda: _env_int("CHATFACE_RECURSION_LIMIT", 16))
    # the engine
    engine: str = field(default_factory=lambda: _env("CHATFACE_ENGINE", "offline"))
    face_index: int = field(default_factory=lambda: _env_int("CHATFACE_FACE_INDEX", 0))  # 0: the largest face
    models_dir: str | None = field(default_factory=lambda: _env("CHATFACE_MODELS"))  # diffusion engine weights
    device: str | None = field(default_factory=lambda: _env("CHATFACE_DEVICE"))  # None: cuda when available
    dtype: str | None = field(default_factory=lambda: _env("CHATFACE_DTYPE"))  # None: float16 on cuda, else float32
    # DDIM steps of the diffusion engine; None: the models folder's own (40 for Asyrp's networks), else 20
    steps: int | None = field(default_factory=lambda: _env_int("CHATFACE_STEPS", 0) or None)
    unet: str | None = field(default_factory=lambda: _env("CHATFACE_UNET"))  # single parts, over the models folder's
    mappings: str | None = field(default_factory=lambda: _env("CHATFACE_MAPPINGS"))
    clip: str | None = field(default_factory=lambda: _env("CHATFACE_CLIP"))
    clip_pretrained: str | None = field(default_factory=lambda: _env("CHATFACE_CLIP_PRETRAINED"))
    arcface: str | None = field(default_factory=lambda: _env("CHATFACE_ARCFACE"))
    # engines on a Ray cluster (Ray Serve deployments) instead of in this process: "auto", "ray://host:10001", "local"
    ray_address: str | None = field(default_factory=lambda: _env("CHATFACE_RAY_ADDRESS"))
    # the session memory
    database_url: str | None = field(default_factory=lambda: _env("CHATFACE_DATABASE_URL"))  # None: SQLite in home
    home: str | None = field(default_factory=lambda: _env("CHATFACE_HOME"))  # None: the user data dir
    # serving several people: who owns what an unauthenticated run opens, which folders a graph run may read photos
    # from, and the limits every server entry point answers in one line
    owner: str = field(default_factory=lambda: _env("CHATFACE_OWNER", "local"))
    allow_dirs: tuple[str, ...] = field(
        default_factory=lambda: tuple(d for d in (_env("CHATFACE_ALLOW_DIRS") or "").split(os.pathsep) if d)
    )
    max_upload_mb: float = field(default_factory=lambda: _env_float("CHATFACE_MAX_UPLOAD_MB", 25.0))
    max_megapixels: float = field(default_factory=lambda: _env_float("CHATFACE_MAX_MEGAPIXELS", 50.0))
    max_sessions_per_user: int = field(default_factory=lambda: _env_int("CHATFACE_MAX_SESSIONS_PER_USER", 500))
    queue_size: int = field(default_factory=lambda: _env_int("CHATFACE_QUEUE_SIZE", 16))
    cache_mb: float = field(default_factory=lambda: _env_float("CHATFACE_CACHE_MB", 1024.0))
    # the self-check
    identity_distance: float | None = field(default_factory=lambda: _env_float("CHATFACE_IDENTITY_DISTANCE", None))
    direction_threshold: float = field(default_factory=lambda: _env_float("CHATFACE_DIRECTION_THRESHOLD", 0.1))
    max_attempts: int = field(default_factory=lambda: _env_int("CHATFACE_MAX_ATTEMPTS", 4))

    def with_overrides(self, **overrides) -> "Configuration":
        """A copy with the given fields replaced; unknown names and None values are ignored (unset CLI flags)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if k in known and v is not None})

    @classmethod
    def from_runnable_config(cls, config: dict | None = None) -> "Configuration":
        """The environment's configuration with a run's per-run settings (RUN_SETTINGS only: a caller of a server can
        never choose its database, owner, folders, engine or limits)."""
        configurable = (config or {}).get("configurable", {}) or {}
        return cls().with_overrides(**{k: v for k, v in configurable.items() if k in RUN_SETTINGS})

    def resolved_database_url(self) -> str:
        """The database to use: the configured URL, or a SQLite file in ``home`` (default: the user data dir)."""
        if self.database_url:
            return self.database_url
        from pathlib import Path

        from platformdirs import user_data_dir

        data_dir = Path(self.home or user_data_dir("chatface", appauthor=False)).expanduser()
        data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{data_dir / 'chatface.db'}"

    def model_sources(self) -> dict:
        """The single parts of the diffusion engines given over the models folder's (resolve_sources' keywords)."""
        return {
            "unet": self.unet,
            "mappings": self.mappings,
            "clip": self.clip,
            "clip_pretrained": self.clip_pretrained,
            "arcface": self.arcface,
        }

    def diffusion_options(self) -> dict:
        """What the diffusion engines' loaders take from this configuration."""
        return {"device": self.device, "dtype": self.dtype, "steps": self.steps, **self.model_sources()}
