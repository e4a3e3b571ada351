"""Engines as Ray Serve deployments, called through the same Generator and scorer interfaces.

One chatface process holds one engine; a team or a public demo needs many sessions at once across GPU
machines. Here an engine (offline, diffusion or ledits, with its identity and direction scorers) runs as
a Ray Serve deployment, ``EngineWorker``: replicas with their GPUs, a fixed number or autoscaled. Front
ends (the web app, MCP over HTTP) get ``EngineParts`` whose generator and scorers are proxies of the
deployment (``remote_parts``), so the tools, the self-check and the memory do not change: they still call
``invert``, ``decode``, ``score`` and ``direction`` and store what comes back. Sessions live in the
database (PostgreSQL for several front ends), so any front end can serve any session.

A render is a pure function of the stored photo, its inversion and the edit state, so a call that a
replica dies in is sent once more (Serve routes it to a live replica); a second failure is reported as
EngineReplicaError, before anything is stored. Bad input (no face, unsupported attribute) raised in a
replica reaches the caller as the same chatface error it would be in-process.

Batching: with ``Scaling.max_batch`` > 1 a replica gathers the decodes that arrive together
(``@serve.batch``) into one ``Generator.decode_batch``: the diffusion engine runs them as one batched
U-Net pass per step, different photos each with their own edits. LEDITS++ keeps the inversion on the
pipeline, so it cannot batch: its replicas take one request at a time (``max_batch`` 1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ...errors import ChatfaceError
from ..base import ChatfaceModelError, DirectionScorer, EngineParts, Generator, IdentityScore, IdentityScorer, Latent

APP_PREFIX = "chatface-"
NAMESPACE = "chatface"
CALL_TIMEOUT_S = 600.0


class EngineReplicaError(ChatfaceModelError):
    """The engine deployment failed to answer (a replica died twice, or the cluster is gone); nothing was stored."""


def app_name(engine: str) -> str:
    return APP_PREFIX + engine


class EngineWorker:
    """One replica's body: an engine and its scorers, loaded once when the replica starts."""

    def __init__(self, engine: str, options: dict):
        from .catalog import load_engine

        self.engine = engine
        self.parts = load_engine(engine, **options)

    def describe(self) -> dict:
        g, parts = self.parts.generator, self.parts
        return {
            "name": g.name,
            "model_id": parts.model_id,
            "accepts_text": g.accepts_text,
            "takes_style": g.takes_style,
            "supported": g.supported_attributes(),
            "coloured": sorted(a for a in g.supported_attributes() if g.takes_colour(a)),
            "edited_by": {a: way for a in g.supported_attributes() if (way := g.edited_by(a))},
            "identity": parts.identity.name,
            "criterion": parts.identity.criterion,
            "direction": parts.direction.name,
        }

    def stats(self) -> dict:
        """The sizes of the latest batched decodes (empty for a replica that does not batch)."""
        return {"batch_sizes": list(getattr(self, "batch_sizes", []))[-100:]}

    def pid(self) -> int:
        """The replica's process id (tests and operators see which replica answered)."""
        return os.getpid()

    def invert(self, image: np.ndarray, face_index: int | None) -> Latent:
        return self.parts.generator.invert(image, face_index)

    def decode(self, image: np.ndarray, latent: Latent, edits: dict) -> np.ndarray:
        return self.parts.generator.decode(image, latent, edits)

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray | None:
        return self.parts.generator.edit_region(image, latent)

    def edit_box(self, image: np.ndarray, latent: Latent) -> tuple[int, int, int, int] | None:
        return self.parts.generator.edit_box(image, latent)

    def check_supported(self, edits: dict) -> None:
        self.parts.generator.check_supported(edits)

    def default_t_edit(self, attribute: str) -> int | None:
        return self.parts.generator.default_t_edit(attribute)

    def colour_for(self, attribute: str, seen_rgb: tuple[int, int, int]) -> str:
        return self.parts.generator.colour_for(attribute, seen_rgb)

    def towards(self, image_a: np.ndarray, image_b: np.ndarray, reference: np.ndarray) -> float | None:
        return self.parts.direction.towards(image_a, image_b, reference)

    def identity(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None) -> IdentityScore:
        return self.parts.identity.score(image_a, image_b, face_hint)

    def direction(self, image_a, image_b, text_a, text_b, attribute, strength_sign, face_hint) -> float:
        return self.parts.direction.direction(
            image_a, image_b, text_a, text_b, attribute=attribute, strength_sign=strength_sign, face_hint=face_hint
        )


def _died(exc: BaseException) -> bool:
    """Whether ``exc`` says a replica (or the cluster) went away, as opposed to an error of the request itself."""
    import ray.exceptions as rex

    return isinstance(
        exc,
        (
            rex.RayActorError,
            rex.ActorDiedError,
            rex.ActorUnavailableError,
            rex.WorkerCrashedError,
            rex.NodeDiedError,
            rex.RaySystemError,
            TimeoutError,
            ConnectionError,
        ),
    )


class _Caller:
    """Calls one method of the deployment: the request's own chatface errors come back as they are, a dead replica is retried once."""

    def __init__(self, handle, engine: str):
        self.handle, self.engine = handle, engine

    def __call__(self, method: str, *args):
        import ray.exceptions as rex

        last: Exception | None = None  # the failure of the latest try
        for _ in range(2):
            try:
                return getattr(self.handle, method).remote(*args).result(timeout_s=CALL_TIMEOUT_S)
            except rex.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, ChatfaceError):
                    raise cause from None
                if not _died(cause if cause is not None else exc):
                    raise
                last = exc
            except Exception as exc:  # noqa: BLE001 - sorted: a replica or the cluster gone is retried, anything else raised
                if isinstance(exc, ChatfaceError):
                    raise
                if not _died(exc) and type(exc).__name__ not in ("DeploymentUnavailableError", "BackPressureError"):
                    raise
                last = exc
        raise EngineReplicaError(
            f"the {self.engine} engine's replica failed ({type(last).__name__}) and so did a second try; "
            "nothing was stored, so the request can simply be sent again"
        ) from None


class RemoteGenerator(Generator):
    """The Generator of a deployed engine: every call goes to a replica."""

    def __init__(self, call: _Caller, info: dict):
        self._call, self.info = call, info
        self.name = info["name"]
        self.accepts_text = bool(info["accepts_text"])
        self.takes_style = bool(info.get("takes_style", False))

    def invert(self, image: np.ndarray, face_index: int | None = None) -> Latent:
        return self._call("invert", image, face_index)

    def decode(self, image: np.ndarray, latent: Latent, edits) -> np.ndarray:
        self.check_supported(edits)  # refused here, without a round trip
        return self._call("decode", image, latent, dict(edits))

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray | None:
        return self._call("edit_region", image, latent)

    def edit_box(self, image: np.ndarray, latent: Latent) -> tuple[int, int, int, int] | None:
        return self._call("edit_box", image, latent)

    def default_t_edit(self, attribute: str) -> int | None:
        return self._call("default_t_edit", attribute)

    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        return {a: tuple(v) for a, v in self.info["supported"].items()}

    def takes_colour(self, attribute: str) -> bool:
        return attribute in self.info.get("coloured", ())

    def colour_for(self, attribute: str, seen_rgb: tuple[int, int, int]) -> str:
        return self._call("colour_for", attribute, seen_rgb)

    def edited_by(self, attribute: str) -> str | None:
        return self.info.get("edited_by", {}).get(attribute)

    def check_supported(self, edits) -> None:
        """Checked here first; what this side refuses is asked of the engine, for its own reasons (e.g. "withdrawn: ...")."""
        from ..base import UnsupportedAttributeError

        try:
            super().check_supported(edits)
        except UnsupportedAttributeError:
            self._call("check_supported", dict(edits))
            raise


class RemoteIdentityScorer(IdentityScorer):
    def __init__(self, call: _Caller, info: dict):
        self._call, self.name, self._criterion = call, info["identity"], info["criterion"]

    @property
    def criterion(self) -> str:
        return self._criterion

    def score(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None = None) -> IdentityScore:
        return self._call("identity", image_a, image_b, face_hint)


class RemoteDirectionScorer(DirectionScorer):
    def __init__(self, call: _Caller, info: dict):
        self._call, self.name = call, info["direction"]

    def direction(self, image_a, image_b, text_a, text_b, attribute=None, strength_sign=1.0, face_hint=None) -> float:
        return self._call("direction", image_a, image_b, text_a, text_b, attribute, strength_sign, face_hint)

    def towards(self, image_a, image_b, reference) -> float | None:
        return self._call("towards", image_a, image_b, reference)


@dataclass(frozen=True)
class Scaling:
    """How many replicas an engine deployment runs, and what each one holds."""

    replicas: int = 1  # fixed number, unless max_replicas is set
    max_replicas: int | None = None  # autoscale between ``replicas`` and this, on ongoing requests per replica
    gpus: float = 0.0  # per replica (fractions share a GPU)
    cpus: float = 1.0  # per replica
    max_batch: int = 1  # decodes gathered into one batched pass (1: one request at a time)
    batch_wait_s: float = 0.05  # how long a replica waits for a batch to fill

    def deployment_options(self) -> dict:
        opts = {
            "ray_actor_options": {"num_gpus": self.gpus, "num_cpus": self.cpus},
            "max_ongoing_requests": max(1, self.max_batch),
            "health_check_period_s": 2.0,
            "graceful_shutdown_timeout_s": 5.0,
        }
        if self.max_replicas is not None:
            opts["autoscaling_config"] = {
                "min_replicas": self.replicas,
                "max_replicas": self.max_replicas,
                "target_ongoing_requests": 1,
                "upscale_delay_s": 2.0,
                "downscale_delay_s": 60.0,
            }
        else:
            opts["num_replicas"] = self.replicas
        return opts


DecodeRequest = tuple[np.ndarray, Latent, dict]  # one decode's (image, latent, edits), as a batch gathers them


def _batching_worker(max_batch: int, wait_s: float) -> type:
    """An EngineWorker whose decodes are gathered by Serve into batches of up to ``max_batch``."""
    from ray import serve

    class BatchingEngineWorker(EngineWorker):
        def __init__(self, engine: str, options: dict):
            super().__init__(engine, options)
            self.batch_sizes: list[int] = []

        @serve.batch(max_batch_size=max_batch, batch_wait_timeout_s=wait_s)
        async def _decode_batch(self, requests: list[DecodeRequest]) -> list[np.ndarray | ChatfaceModelError]:
            self.batch_sizes.append(len(requests))
            return self.parts.generator.decode_batch(list(requests))

        # Serve awaits an async method where the plain worker's is sync: a handle's caller gets the array either way
        async def decode(self, image: np.ndarray, latent: Latent, edits: dict) -> np.ndarray:  # type: ignore[override]
            result = await self._decode_batch((image, latent, edits))
            if isinstance(result, Exception):  # this request's own error (the others of its batch went on)
                raise result
            return result

    return BatchingEngineWorker


def connect(address: str) -> None:
    """Join the Ray cluster at ``address`` ("auto", "ray://host:10001", or "local" for a cluster of this machine only)."""
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(
            address=None if address == "local" else address,
            namespace=NAMESPACE,
            log_to_driver=False,
            include_dashboard=False if address == "local" else None,
        )
    except ConnectionError as exc:
        raise EngineReplicaError(f"no Ray cluster at {address} ({exc})") from None


def deploy(engine: str, options: dict, scaling: Scaling = Scaling()) -> None:
    """Start (or update in place) the deployment of ``engine``; replicas load the engine with ``options`` (load_engine's)."""
    from ray import serve

    serve.start(proxy_location="Disabled")  # front ends call the deployment through handles, not HTTP
    worker = _batching_worker(scaling.max_batch, scaling.batch_wait_s) if scaling.max_batch > 1 else EngineWorker
    deployment = serve.deployment(name="engine", **scaling.deployment_options())(worker)
    serve.run(deployment.bind(engine, options), name=app_name(engine), route_prefix=None)


def remote_parts(engine: str) -> EngineParts:
    """EngineParts whose generator and scorers call the deployment of ``engine`` on the connected cluster."""
    from ray import serve

    try:
        handle = serve.get_app_handle(app_name(engine))
    except Exception as exc:  # noqa: BLE001 - Serve raises several kinds for "not there"
        raise EngineReplicaError(
            f"no {engine} engine is deployed on the Ray cluster ({type(exc).__name__}); "
            f"start one with `chatface serve --ray ADDRESS --engine {engine}`"
        ) from None
    call = _Caller(handle, engine)
    info = call("describe")
    return EngineParts(
        RemoteGenerator(call, info), RemoteIdentityScorer(call, info), RemoteDirectionScorer(call, info), model_id=info["model_id"]
    )
