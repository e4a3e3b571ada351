"""Issue 11's honest outcomes: partial requests apply what works and name the rest; `chatface edit` fails when nothing was applied."""

from chatface.agent.planners.offline import OfflinePlanner
from helpers import chat_agent
from test_cli import run


def test_edit_exits_non_zero_and_writes_nothing_when_nothing_was_applied(tmp_path, photo):
    out = tmp_path / "glasses.png"
    r = run(["edit", str(photo), "add glasses", "-o", str(out)], tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert not out.exists()
    assert "glasses: the offline engine withdrew it" in r.stdout and "the ledits engine does it (--engine ledits" in r.stdout
    assert "nothing was applied" in r.stderr


def test_edit_applies_the_parts_that_work_and_exits_zero(tmp_path, photo):
    out = tmp_path / "partial.png"
    r = run(["edit", str(photo), "red lipstick and glasses", "-o", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.exists()
    assert "Not applied: glasses: the offline engine withdrew it" in r.stdout and "--engine ledits" in r.stdout


def test_a_failed_part_never_throws_away_the_rest(editor, tmp_path):
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    r = agent.send("give her red lipstick and blue eyes")
    assert r.head.strengths() == {"lipstick": 0.6}
    assert "blue eyes: the offline engine withdrew it" in r.text and "the ledits engine does it" in r.text


def test_edit_exits_non_zero_and_writes_nothing_when_the_change_is_too_weak_to_see(tmp_path, photo):
    out = tmp_path / "faint.png"
    r = run(["edit", str(photo), "remove her lipstick a tiny bit", "-o", str(out)], tmp_path, env_extra={"CHATFACE_MAX_ATTEMPTS": "0"})
    assert r.returncode == 1 and not out.exists(), (r.stdout, r.stderr)
    assert "Not visible" in r.stdout and "too weak to see" in r.stderr and "Applied" not in r.stdout
