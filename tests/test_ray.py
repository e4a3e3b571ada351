"""Engines as Ray Serve deployments on a local Ray instance (CPU, the offline engine's real dlib models).

Concurrent sessions from several clients across 2 replicas give the same images as in-process runs; a
replica killed mid-edit leaves every edit either done (retried on the other replica) or reported, and
nothing half-stored; a front end that restarts finds its sessions and renders them bit for bit. The tests
start Ray themselves and skip when it is not installed (`pip install -e ".[ray]"`; `.ci/run` installs it).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from helpers import require_extra  # noqa: E402

ray = require_extra("ray", "ray")
require_extra("ray.serve", "ray")

from chatface.configuration import Configuration  # noqa: E402
from chatface.tools.schemas import AttributeEdit  # noqa: E402
from chatface.tools.service import EditService  # noqa: E402

EDITS = [AttributeEdit(attribute="smiling", strength=0.5), AttributeEdit(attribute="lipstick", strength=0.6)]


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=4, include_dashboard=False, namespace="chatface", log_to_driver=False)
    try:
        yield
    finally:
        from ray import serve

        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from chatface.models.images import load_image
    from chatface.tools.examples import write_example_photos

    paths = [p for p in write_example_photos(tmp_path_factory.mktemp("photos")) if p.suffix == ".png"]
    return [load_image(p) for p in paths[:4]]


def _service(db_url, **overrides) -> EditService:
    return EditService(Configuration(engine="offline", database_url=db_url, ray_address="local", **overrides))


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('deploy') / 'deploy.db'}"
    svc = _service(url)
    svc.deploy(replicas=2, cpus=1.0)
    svc.close()


def _replicas() -> list[str]:
    return [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith("SERVE_REPLICA::chatface-offline")]


def test_concurrent_sessions_on_two_replicas_match_in_process_runs(deployed, photos, tmp_path):
    from ray import serve

    remote = _service(f"sqlite:///{tmp_path / 'remote.db'}")
    local = EditService(Configuration(engine="offline", database_url=f"sqlite:///{tmp_path / 'local.db'}"))
    assert type(remote.parts().generator).__name__ == "RemoteGenerator"
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            ed = remote.open_photo(f"photo-{i}", image=photos[i])
            remote.toolkit(ed).apply_attribute(EDITS)
            results[i] = remote.store.read_blob(ed.head().image_blob)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(photos))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for i, image in enumerate(photos):
        ed = local.open_photo(f"photo-{i}", image=image)
        local.toolkit(ed).apply_attribute(EDITS)
        assert local.store.read_blob(ed.head().image_blob) == results[i], f"photo {i} differs from the in-process run"
    handle = serve.get_app_handle("chatface-offline")
    assert len({handle.pid.remote().result() for _ in range(16)}) == 2  # both replicas answer
    # the engine's own refusals come back as they are in-process
    ed = remote.open_photo("p", image=photos[0])
    text, art = remote.toolkit(ed).apply_attribute([AttributeEdit(attribute="eyeglasses", strength=0.6)])
    assert "withdrawn" in text or "did not pass for a photograph" in text
    remote.close()
    local.close()


def test_a_replica_killed_mid_edit_leaves_each_edit_done_or_reported_and_nothing_half_stored(deployed, photos, tmp_path):
    from chatface.models.engines.remote import EngineReplicaError

    # strict identity: every edit re-renders several times, so a kill lands during one
    svc = _service(f"sqlite:///{tmp_path / 'kill.db'}", identity_distance=0.0001, max_attempts=3)
    editors = [svc.open_photo(f"photo-{i}", image=photos[i]) for i in range(3)]
    outcomes: dict[int, object] = {}

    def client(i: int) -> None:
        try:
            outcomes[i] = svc.toolkit(editors[i]).apply_attribute(EDITS)[1]
        except EngineReplicaError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    victim = _replicas()[0]
    ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
    for t in threads:
        t.join(timeout=300)
    assert len(outcomes) == 3
    for i, ed in enumerate(editors):
        nodes = svc.store.nodes(ed.session_id)
        if isinstance(outcomes[i], EngineReplicaError):
            assert "nothing was stored" in str(outcomes[i])
            assert [n.seq for n in nodes] == [0]  # reported, and nothing stored
        else:
            assert [n.seq for n in nodes] == [0, 1] and nodes[1].image_blob is not None  # done, whole
            assert svc.store.attempts(ed.session_id, nodes[1].id)  # with its checks
    # Serve replaces the replica; the sessions go on
    deadline = time.time() + 120
    while len(_replicas()) < 2 and time.time() < deadline:
        time.sleep(1)
    svc.toolkit(editors[0]).apply_attribute([AttributeEdit(attribute="smiling", strength=0.3)])
    svc.close()


def test_a_restarted_front_end_finds_its_sessions_and_renders_them_bit_for_bit(deployed, photos, tmp_path):
    url = f"sqlite:///{tmp_path / 'front.db'}"
    first = _service(url)
    ed = first.open_photo("p", image=photos[1])
    first.toolkit(ed).apply_attribute(EDITS)
    sid, stored = ed.session_id, first.store.read_blob(ed.head().image_blob)
    first.close()  # the front end goes away; the deployment and the database stay

    second = _service(url)
    again = second.open_session(sid)
    from chatface.models.images import encode_png

    assert encode_png(again.render(again.head().state)) == stored
    second.toolkit(again).apply_attribute([AttributeEdit(attribute="smiling", strength=0.8)])
    assert [n.seq for n in second.store.nodes(sid)] == [0, 1, 2]
    second.close()


def test_a_diffusion_replica_batches_concurrent_decodes(cluster, photos, tmp_path, tiny_diffusion):
    """Decodes of different photos that arrive together share one batched U-Net pass on the replica (@serve.batch),
    and give the in-process images (to float rounding)."""
    pytest.importorskip("diffusers")
    from ray import serve

    options = dict(models_dir=str(tiny_diffusion), device="cpu", dtype="float32", steps=8, max_attempts=0)
    remote = EditService(Configuration(engine="diffusion", database_url=f"sqlite:///{tmp_path / 'r.db'}", ray_address="local", **options))
    remote.deploy(replicas=1, max_batch=4, cpus=1.0)
    # what the tools ask of an engine beyond decoding reaches the replica too: a style, the scorer's image measure
    proxy = remote.parts()
    assert proxy.generator.takes_style and proxy.generator.edited_by("smiling") is None and not proxy.generator.takes_colour("lipstick")
    assert isinstance(proxy.direction.towards(photos[0], photos[1], photos[2]), float)
    editors = [remote.open_photo(f"photo-{i}", image=photos[i]) for i in range(4)]
    results: dict[int, bytes] = {}

    def client(i: int) -> None:
        remote.toolkit(editors[i]).apply_attribute([AttributeEdit(attribute="smiling", strength=0.3 + 0.2 * i)])
        results[i] = remote.store.read_blob(editors[i].head().image_blob)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    sizes = serve.get_app_handle("chatface-diffusion").stats.remote().result()["batch_sizes"]
    assert max(sizes) > 1, sizes  # concurrent decodes were gathered
    from chatface.models.images import decode_image_bytes

    local = EditService(Configuration(engine="diffusion", database_url=f"sqlite:///{tmp_path / 'l.db'}", **options))
    for i in range(4):
        ed = local.open_photo(f"photo-{i}", image=photos[i])
        local.toolkit(ed).apply_attribute([AttributeEdit(attribute="smiling", strength=0.3 + 0.2 * i)])
        mine = decode_image_bytes(local.store.read_blob(ed.head().image_blob)).astype(int)
        theirs = decode_image_bytes(results[i]).astype(int)
        assert np.abs(mine - theirs).max() <= 2, i
    serve.delete("chatface-diffusion")
    remote.close()
    local.close()


def test_replica_resources_come_from_the_engine_not_from_its_name(tmp_path):
    """GPUs and batching are the engine's facts: the diffusion engine batches and takes a GPU (none with device cpu),
    the offline engine neither; the caller's numbers win."""
    from chatface.models.engines.catalog import FACTS, EngineUnavailableError, engine_facts
    from chatface.models.engines.diffusion.engine import DiffusionGenerator
    from chatface.models.engines.ledits import LeditsGenerator
    from chatface.models.engines.offline.engine import OfflineEngine

    for cls in (DiffusionGenerator, LeditsGenerator, OfflineEngine):
        assert FACTS[cls.name].batches is bool(cls.batches), cls.name
    db = f"sqlite:///{tmp_path / 'f.db'}"
    assert EditService(Configuration(engine="diffusion", database_url=db)).replica_resources() == (1.0, 8)
    assert EditService(Configuration(engine="diffusion", database_url=db, device="cpu")).replica_resources() == (0.0, 8)
    assert EditService(Configuration(engine="offline", database_url=db)).replica_resources() == (0.0, 1)
    assert EditService(Configuration(engine="ledits", database_url=db)).replica_resources(0.5, 2) == (0.5, 2)
    with pytest.raises(EngineUnavailableError, match="choose one of offline, diffusion, ledits"):
        engine_facts("stylegan")
