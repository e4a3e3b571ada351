"""The CLI as a user runs it: fast help, clear one-line errors, nothing stored on bad input.

The commands run in this process (helpers.run_cli: the same main(), stdout, stderr and exit status);
one smoke test runs the installed module as a real process.
"""

import os
import subprocess
import sys

import pytest
from helpers import run_cli


def run(args, tmp_path, env_extra=None, input=None):
    env = {"CHATFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATFACE_EMBEDDINGS": "0", **(env_extra or {})}
    return run_cli(args, env=env, input=input)


def test_a_real_process_edits_and_exits_zero(photo, tmp_path):
    env = {**os.environ, "CHATFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATFACE_EMBEDDINGS": "0"}
    out = tmp_path / "smoke.png"
    r = subprocess.run(
        [sys.executable, "-m", "chatface.cli", "edit", str(photo), "red lipstick", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "lipstick +0.60" in r.stdout and out.stat().st_size > 10_000


def test_help_does_not_import_torch_or_models():
    code = (
        "import sys; from chatface.cli import build_parser; build_parser(); "
        "assert not any(m in sys.modules for m in ('torch', 'dlib', 'langgraph', 'sqlalchemy')), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_argument_errors_exit_2(tmp_path):
    r = run(["edit", "only-a-photo.png"], tmp_path)
    assert r.returncode == 2 and "usage" in r.stderr


def _session_count(tmp_path):
    from chatface.memory.store import Store

    return len(Store(f"sqlite:///{tmp_path / 'cli.db'}").list_sessions())


@pytest.mark.parametrize("kind", ["not_an_image", "truncated", "no_face", "missing", "huge"])
def test_bad_photos_fail_cleanly(tmp_path, astronaut, kind):
    from PIL import Image

    path = tmp_path / "in.png"
    if kind == "not_an_image":
        path.write_bytes(b"hello, I am not a picture")
    elif kind == "truncated":
        Image.fromarray(astronaut).save(path)
        path.write_bytes(path.read_bytes()[:5000])
    elif kind == "no_face":
        Image.new("RGB", (256, 256), (120, 160, 200)).save(path)
    elif kind == "huge":  # 72 megapixels of one colour: a small file that would decompress to 216 MB
        Image.new("L", (9000, 8000), 128).save(path)
    r = run(["edit", str(path), "add glasses", "-o", str(tmp_path / "out.png")], tmp_path)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("chatface: error")]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out.png").exists()
    assert _session_count(tmp_path) == 0


def test_edit_history_export(tmp_path, photo):
    out = tmp_path / "edited.png"
    r = run(["edit", str(photo), "give her a subtle smile and red lipstick", "-o", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    sid = r.stdout.strip().splitlines()[-1].split()[1].rstrip(",")
    r = run(["history", sid], tmp_path)
    assert r.returncode == 0 and "smiling +0.30" in r.stdout
    r = run(["export", sid, "0", "-o", str(tmp_path / "orig.png")], tmp_path)
    assert r.returncode == 0 and (tmp_path / "orig.png").exists()
    r = run(["export", sid, "0", "-o", str(tmp_path / "orig.png")], tmp_path)
    assert r.returncode == 1 and "exists" in r.stderr
    r = run(["history", "no-such-session"], tmp_path)
    assert r.returncode == 1 and "no session" in r.stderr


def test_chat_resumes_a_session(tmp_path, photo):
    r = run(["chat", str(photo)], tmp_path, input="add red lipstick\nmore\nundo\nquit\n")
    assert r.returncode == 0, r.stderr
    sid = r.stdout.split()[1]
    r = run(["chat", "--session", sid], tmp_path, input="reset\nquit\n")
    assert r.returncode == 0 and "Reset to the original" in r.stdout


def test_a_missing_extra_is_named_in_one_line(monkeypatch, capsys):
    import importlib.util

    from chatface.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("gradio", "mcp") else real(name, *a))
    assert main(["serve"]) == 1
    assert capsys.readouterr().err.strip() == (
        "chatface: error: chatface serve needs the 'gradio' package, which is not "
        "installed: pip install -e \".[serve]\" (or pip install 'chatface[serve]')"
    )
    assert main(["mcp"]) == 1
    assert 'pip install -e ".[serve]"' in capsys.readouterr().err
