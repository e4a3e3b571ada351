"""Shared fixtures: the astronaut photo on disk, a throw-away SQLite store, the offline engine."""

from __future__ import annotations

import os

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
    from chatface.models.registry import load_engine

    return load_engine("offline")


@pytest.fixture(scope="session")
def latent(parts, astronaut):
    return parts.generator.invert(astronaut)


@pytest.fixture()
def editor(store, parts, photo):
    from chatface.tools.editor import open_photo

    return open_photo(store, parts, str(photo))
