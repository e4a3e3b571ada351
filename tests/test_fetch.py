"""``chatface models fetch asyrp`` from a local mirror folder and from an HTTP server the test starts.

The mirror holds a small pytorch_diffusion-layout U-Net (Asyrp's DDPM class from
../shared/reference/asyrp, random weights, a 512-channel middle like the real
one) as celeba_hq.ckpt, and the real published networks from ../shared.
"""

from __future__ import annotations

import os
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from helpers import require_extra
from test_cli import run

torch = require_extra("torch", "diffusion")

from chatface.models.weights.asyrp import file_name


@pytest.fixture(scope="module")
def mirror(shared_dir, tmp_path_factory):
    import importlib.util

    spec = importlib.util.spec_from_file_location("asyrp_oracle_fetch", shared_dir / "reference" / "asyrp" / "diffusion.py")
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    cfg = SimpleNamespace(
        model=SimpleNamespace(
            ch=128, out_ch=3, ch_mult=[1, 4], num_res_blocks=1, attn_resolutions=[8], dropout=0.0, in_channels=3, resamp_with_conv=True
        ),
        data=SimpleNamespace(image_size=16),
    )
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("mirror")
    torch.save(oracle.DDPM(cfg).state_dict(), root / "celeba_hq.ckpt")
    (root / "checkpoint").mkdir()
    for name in ("smiling", "young"):
        shutil.copy(shared_dir / "weights" / "asyrp-celebahq" / file_name(name), root / "checkpoint" / file_name(name))
    from chatface.models.weights.tiny import make_arcface

    make_arcface(root / "arcface.onnx")  # an ArcFace-shaped ONNX network, as a mirror may hold the real one
    from chatface.models.weights.tiny import make_clip

    make_clip(root / "clip")  # a converted CLIP folder, as a mirror of a fetched folder holds the real one
    return root


class RangeHandler(SimpleHTTPRequestHandler):
    """A static file server that honours 'Range: bytes=N-' (as GitHub and the hub do), and logs what it was asked."""

    asked: list = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        RangeHandler.asked.append((self.path, self.headers.get("Range")))
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().do_GET()
        start = int(rng.removeprefix("bytes=").split("-")[0])
        data = open(path, "rb").read()
        if start >= len(data):
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture()
def server(mirror):
    RangeHandler.asked = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(mirror)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _registry(dest):
    from chatface.models.engines.diffusion.hspace import MappingRegistry
    from chatface.models.engines.diffusion.loading import resolve_sources
    from chatface.models.weights.provenance import unet_id

    src = resolve_sources(str(dest))
    return MappingRegistry(src.mappings, channels=512, temb_channels=512, base_model=unet_id(src.unet))


def test_fetch_from_a_local_mirror_writes_a_models_directory_the_engine_reads(mirror, tmp_path, capsys):
    from chatface.cli import main
    from chatface.models.engines.diffusion.loading import load_unet
    from chatface.models.weights.provenance import read_identity

    dest = tmp_path / "models"
    assert (
        main(
            [
                "models",
                "fetch",
                "asyrp",
                "--dest",
                str(dest),
                "--from",
                str(mirror),
                "--attributes",
                "smiling,age",
                "--resolution",
                "16",
                "--no-progress",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in dest.iterdir()) == ["ASYRP.txt", "MANIFEST.json", "arcface.onnx", "clip", "mappings", "unet"]
    assert (dest / "arcface.onnx").read_bytes() == (mirror / "arcface.onnx").read_bytes()
    assert not (tmp_path / ".models.partial").exists()
    identity = read_identity(dest / "unet")
    assert identity["id"].startswith("celeba_hq-16@sha256:") and identity["steps"] == 40
    unet, scheduler = load_unet(str(dest / "unet"))
    assert unet.config.sample_size == 16 and unet.config.block_out_channels[-1] == 512
    reg = _registry(dest)
    assert reg.available() == ["age", "smiling"] and reg.problems == {}
    assert reg.infos["age"]["both"].meta["scale"] == -1.0
    assert reg.infos["smiling"]["both"].meta["source"]["commit"].startswith("a6c82dc7")
    capsys.readouterr()
    assert main(["models", "list", "--models", str(dest)]) == 0
    listing = capsys.readouterr().out
    assert "2 attribute(s): age, smiling" in listing and "asyrp-delta-block" in listing


def test_fetch_over_http_resumes_a_broken_download(mirror, server, tmp_path):
    from chatface.models.weights.fetch import fetch_asyrp

    dest = tmp_path / "models"
    partial_dir = tmp_path / ".models.partial" / "checkpoint"
    partial_dir.mkdir(parents=True)
    whole = (mirror / "checkpoint" / file_name("young")).read_bytes()
    (partial_dir / (file_name("young") + ".part")).write_bytes(whole[:1_000_000])  # an interrupted earlier try
    fetch_asyrp(dest, source=server, attributes=["young"], resolution=16, progress=False, log=lambda m: None)
    assert (f"/checkpoint/{file_name('young')}", "bytes=1000000-") in RangeHandler.asked
    assert ("/celeba_hq.ckpt", None) in RangeHandler.asked and ("/arcface.onnx", None) in RangeHandler.asked
    assert (dest / "arcface.onnx").is_file()
    assert _registry(dest).available() == ["age"]
    assert not (tmp_path / ".models.partial").exists()


def test_a_network_with_the_wrong_sha256_is_refused_and_nothing_is_written(mirror, tmp_path, server):
    from chatface.models.weights.fetch import FetchError, fetch_asyrp

    bad = tmp_path / "bad-mirror"
    shutil.copytree(mirror, bad)
    shutil.copy(mirror / "checkpoint" / file_name("young"), bad / "checkpoint" / file_name("smiling"))  # right size, wrong bytes
    dest = tmp_path / "models"
    with pytest.raises(FetchError, match="sha256 .* not the pinned 6694632e"):
        fetch_asyrp(dest, source=str(bad), attributes=["smiling"], resolution=16, progress=False, log=lambda m: None)
    assert not dest.exists()
    assert (bad / "checkpoint" / file_name("smiling")).exists()  # the user's own file is left alone
    # an existing models directory keeps what it had when a later fetch fails
    fetch_asyrp(dest, source=str(mirror), attributes=["young"], resolution=16, progress=False, log=lambda m: None)
    before = sorted(p.name for p in (dest / "mappings").iterdir())
    with pytest.raises(FetchError):
        fetch_asyrp(dest, source=str(bad), attributes=["smiling"], resolution=16, progress=False, log=lambda m: None)
    assert sorted(p.name for p in (dest / "mappings").iterdir()) == before == ["age.safetensors"]


def test_offline_fetch_fails_in_one_line_that_says_how_to_get_the_files(tmp_path, capsys, monkeypatch):
    from chatface.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dest = tmp_path / "models"
    assert main(["models", "fetch", "asyrp", "--dest", str(dest), "--no-progress"]) == 1
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.startswith("chatface: error")]
    assert len(err) == 1 and "could not download celeba_hq.ckpt" in err[0] and "--from FOLDER" in err[0]
    assert not dest.exists()
    assert main(["models", "fetch", "asyrp", "--dest", str(dest), "--attributes", "pixar"]) == 1
    assert "a style, not a face attribute" in capsys.readouterr().err


def _no_network(*args, **kwargs):
    raise AssertionError("the network was used")


def test_the_fetched_directory_edits_through_the_engine(mirror, tmp_path, astronaut, store, photo, monkeypatch):
    from chatface.models.base import EditSpec, UnsupportedAttributeError
    from chatface.models.engines.catalog import load_engine
    from chatface.models.weights.fetch import fetch_asyrp

    dest = fetch_asyrp(
        tmp_path / "models", source=str(mirror), attributes=["smiling", "young"], resolution=16, progress=False, log=lambda m: None
    )
    # the folder is all the engine needs: U-Net, networks, ArcFace and CLIP from it, no network at all
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("urllib.request.urlopen", _no_network)
    parts = load_engine("diffusion", models_dir=str(dest), diffusion_options={"device": "cpu", "dtype": "float32"})
    gen = parts.generator
    assert gen.steps == 40  # Asyrp's networks were trained with 40 steps: the folder's default
    gen.steps = 8  # fewer for the test (a user may lower the steps too)
    assert gen.supported_attributes() == {"age": (True, True), "smiling": (True, True)}
    latent = gen.invert(astronaut)
    recon = gen.render_aligned(latent, {})
    smile = gen.render_aligned(latent, {"smiling": EditSpec(0.6, 500)})
    assert gen.last_applied_steps and min(gen.last_applied_steps) >= 500 and not (smile == recon).all()
    with pytest.raises(UnsupportedAttributeError, match="chatface models fetch asyrp"):
        gen.check_supported({"eyeglasses": EditSpec(0.6, 500)})
    # through the tools: an unspecified T_edit is the one the network was trained with (Asyrp's 500, not the vocabulary's 450)
    from chatface.tools.editor import Thresholds, open_photo
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.toolkit import SessionToolkit

    editor = open_photo(store, parts, str(photo))
    editor.thresholds = Thresholds(max_attempts=0)  # the state asked for, not the self-check's re-edit of random weights
    kit = SessionToolkit(editor)
    _, artifact = kit.apply_attribute([AttributeEdit(attribute="smiling", strength=0.6)])
    assert artifact["state"]["smiling"] == {"strength": 0.6, "t_edit": 500}
    _, artifact = kit.apply_attribute([AttributeEdit(attribute="smiling", strength=0.3, t_edit=700)])
    assert artifact["state"]["smiling"] == {"strength": 0.3, "t_edit": 700}


def test_models_verify_checks_every_part_and_file(mirror, tmp_path):
    from chatface.cli import main
    from chatface.models.weights.fetch import fetch_asyrp

    dest = fetch_asyrp(tmp_path / "models", source=str(mirror), attributes=["smiling"], resolution=16, progress=False, log=lambda m: None)
    assert (dest / "clip" / "open_clip_config.json").read_bytes() == (mirror / "clip" / "open_clip_config.json").read_bytes()
    r = run(["models", "verify", str(dest)], tmp_path)
    assert r.returncode == 0 and "every file matches its sha256" in r.stdout, (r.stdout, r.stderr)
    with open(dest / "mappings" / "smiling.safetensors", "r+b") as f:  # one byte changed
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    shutil.rmtree(dest / "clip")
    r = run(["models", "verify", str(dest)], tmp_path)
    assert r.returncode == 1
    assert "missing: CLIP (clip/)" in r.stdout and "changed: mappings/smiling.safetensors" in r.stdout
    assert "missing file: clip/open_clip_model.safetensors" in r.stdout
    assert main(["models", "verify", str(tmp_path / "nowhere")]) == 1


def test_a_clip_file_with_the_wrong_sha256_is_refused_and_a_missing_one_is_one_line(mirror, tmp_path, monkeypatch):
    from chatface.models.weights import fetch
    from chatface.models.weights.fetch import CLIP_FILE, FetchError, fetch_asyrp

    bad = tmp_path / "bad"
    shutil.copytree(mirror, bad, ignore=shutil.ignore_patterns("clip"))
    (bad / "clip").mkdir()
    (bad / "clip" / CLIP_FILE).write_bytes(b"not OpenAI's CLIP")
    with pytest.raises(FetchError, match="not the pinned"):
        fetch_asyrp(tmp_path / "m1", source=str(bad), attributes=["smiling"], resolution=16, progress=False, log=lambda m: None)
    assert not (tmp_path / "m1").exists()
    # a mirror without CLIP, and OpenAI's server out of reach: one line, after one short retry
    shutil.rmtree(bad / "clip")
    asked = []

    def unreachable(request, timeout=None):
        asked.append(request.full_url)
        raise OSError("network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", unreachable)
    monkeypatch.setattr(fetch, "RETRY_PAUSE_S", 0.0)
    with pytest.raises(FetchError) as err:
        fetch_asyrp(tmp_path / "m2", source=str(bad), attributes=["smiling"], resolution=16, progress=False, log=lambda m: None)
    assert len(str(err.value).splitlines()) == 1 and "--no-clip" in str(err.value)
    assert asked == [fetch.CLIP_URL, fetch.CLIP_URL]
    assert not (tmp_path / "m2").exists()
    dest = fetch_asyrp(
        tmp_path / "m3", source=str(bad), attributes=["smiling"], resolution=16, clip=False, progress=False, log=lambda m: None
    )
    assert not (dest / "clip").exists()


def test_openai_clip_weights_convert_to_a_folder_that_loads_alone(tmp_path):
    """The conversion of OpenAI's file, on a small CLIP of the same class saved the way OpenAI's state dict is."""
    import json as _json

    import open_clip
    from chatface.models.weights.fetch import convert_openai_clip
    from chatface.models.weights.tiny import CLIP_CONFIG

    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "tiny-clip-test.json").write_text(_json.dumps(CLIP_CONFIG))
    open_clip.add_model_config(tmp_path / "cfg")
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-clip-test")
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    out = convert_openai_clip(tmp_path / "weights.pt", tmp_path / "clip", model_name="tiny-clip-test")
    loaded = open_clip.create_model(f"local-dir:{out}")
    tokens = open_clip.get_tokenizer("tiny-clip-test")(["a smiling face"])
    with torch.no_grad():
        assert torch.allclose(loaded.encode_text(tokens), model.encode_text(tokens))
