"""Shared fixtures: the astronaut photo on disk, a throw-away SQLite store, the offline engine, the tiny random models
(built once per test run, whichever worker asks first), a PostgreSQL server and the web editor in a browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def astronaut():
    from skimage import data

    return data.astronaut()


@pytest.fixture()
def photo(tmp_path, astronaut):
    from PIL import Image

    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    return path


@pytest.fixture()
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'memory.db'}"


@pytest.fixture()
def store(db_url):
    from chatface.memory.store import Store

    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def parts():
    from chatface.models.engines.catalog import load_engine

    return load_engine("offline")


@pytest.fixture(scope="session")
def latent(parts, astronaut):
    return parts.generator.invert(astronaut)


@pytest.fixture()
def editor(store, parts, photo):
    from chatface.tools.editor import open_photo

    return open_photo(store, parts, str(photo))


# -- a real PostgreSQL server, started by the tests ---------------------------------------------
def _postgres_bindir():
    import glob
    import shutil

    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return dirs[-1] if dirs else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throw-away PostgreSQL cluster on a free local port; yields a URL prefix without the database name.

    Skipped when PostgreSQL is not installed, unless CHATFACE_REQUIRE_POSTGRES is set (CI sets it), then it fails.
    """
    import shutil
    import subprocess

    bindir = _postgres_bindir()
    if bindir is None:
        msg = "PostgreSQL is not installed (Debian package 'postgresql'); .ci/run installs it"
        if os.environ.get("CHATFACE_REQUIRE_POSTGRES"):
            pytest.fail(msg)
        pytest.skip(msg)
    from helpers import require_extra

    require_extra("psycopg", "postgres")
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="chatface-pg-"))  # not under pytest's 0700 root dir: the server user must reach it
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        as_user + [f"{bindir}/initdb", "-D", str(data), "-U", "chatface", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://chatface@127.0.0.1:{port}"
    finally:
        subprocess.run(as_user + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def pg_url(postgres_server):
    """A fresh, empty database on the test server."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


@pytest.fixture(scope="session")
def shared_dir():
    """../shared beside the checkout (real Asyrp networks, the Asyrp oracle); skipped when absent,
    a failure under CHATFACE_REQUIRE_SHARED=1."""
    from pathlib import Path

    path = Path(os.environ.get("CHATFACE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
    if not (path / "reference" / "asyrp").is_dir() or not (path / "weights" / "asyrp-celebahq").is_dir():
        if os.environ.get("CHATFACE_REQUIRE_SHARED") == "1":
            pytest.fail(f"CHATFACE_REQUIRE_SHARED=1 but {path} has no reference/asyrp and weights/asyrp-celebahq")
        pytest.skip(f"{path} is absent (the shared reference and weights are not part of a clone)")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test says what the pages showed and what the server logged, and leaves a screenshot per page in
    test-artifacts/: a flaky wait is otherwise a bare "expected 'Version 1'"."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    browser, web = item.funcargs.get("browser"), item.funcargs.get("web")
    if browser is not None:
        from webpage import ARTIFACTS

        for c, context in enumerate(browser.contexts):
            for p, page in enumerate(context.pages):
                try:
                    shot = ARTIFACTS / f"failed-{item.name}-{c}-{p}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    shown = {
                        sel: page.locator(sel).first.inner_text(timeout=2000) for sel in ("#status", "#chat") if page.locator(sel).count()
                    }
                    report.sections.append((f"page {c}.{p} ({shot.name})", "\n".join(f"{k}: {v[-3000:]}" for k, v in shown.items())))
                except Exception as exc:  # a closed page or a crashed browser: say so, and keep the original failure
                    report.sections.append((f"page {c}.{p}", f"could not be read: {exc}"))
    if isinstance(web, tuple) and len(web) == 3 and Path(web[2]).exists():
        report.sections.append(("server log (last 80 lines)", "\n".join(Path(web[2]).read_text().splitlines()[-80:])))


# -- the web editor in a browser (tests/webpage.py): one headless Chromium, one `chatface serve` per test module ---------
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    from webpage import ARTIFACTS, CHROMIUM, FLAGS, need_chromium

    need_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """A web editor on the offline engine, shared by the tests of one module: (url, database path, log path)."""
    from webpage import need_chromium, serve

    need_chromium()
    with serve(tmp_path_factory.mktemp("web")) as served:
        yield served


# -- tiny random models, built once per run ---------------------------------------------------------------------
def _built_once(tmp_path_factory, name: str, build) -> Path:
    """``build(path)`` once for the whole test run: under xdist the workers share the run's folder, and the first to
    ask builds while the others wait on a lock. Tests read these folders and never write into them."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # a worker's folder sits in the run's
    path = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (path / ".built").exists():
            shutil.rmtree(path, ignore_errors=True)
            build(path)
            (path / ".built").write_text("")
    return path


@pytest.fixture(scope="session")
def tiny_diffusion(tmp_path_factory) -> Path:
    """The diffusion engine's tiny models (make_tiny: U-Net, mapping networks for the vocabulary, CLIP, ArcFace)."""
    from helpers import require_extra

    require_extra("torch", "diffusion")
    from chatface.models.weights.tiny import make_tiny
    from chatface.tools.vocabulary import default_vocabulary

    return _built_once(tmp_path_factory, "tiny-diffusion", lambda p: make_tiny(p, default_vocabulary().texts()))


@pytest.fixture(scope="session")
def tiny_ledits(tmp_path_factory) -> Path:
    """The LEDITS++ engine's tiny random Stable Diffusion pipeline, with CLIP and ArcFace for its scorers."""
    from helpers import require_extra

    require_extra("diffusers", "diffusion")
    from chatface.models.weights.tiny import make_tiny_ledits

    return _built_once(tmp_path_factory, "tiny-ledits", make_tiny_ledits)
