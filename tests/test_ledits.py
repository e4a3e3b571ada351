"""The LEDITS++ engine on a tiny random Stable Diffusion pipeline the tests build (no hub): the inversion is stored
and reused, pixels outside the mask never change, several concepts share one pass, a reverse direction changes the
result, and a resumed session re-renders bit for bit in a new process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import require_extra, run_cli

require_extra("diffusers", "diffusion")

STEPS = 6


@pytest.fixture()
def service(tiny_ledits, db_url):
    from chatface.configuration import Configuration
    from chatface.tools.service import EditService

    service = EditService(
        Configuration(
            engine="ledits", models_dir=str(tiny_ledits), steps=STEPS, device="cpu", dtype="float32", database_url=db_url, max_attempts=0
        )
    )
    yield service
    service.close()


def test_the_tokenizer_is_built_here_and_round_trips():
    from chatface.models.weights.tiny import make_clip_tokenizer

    tok = make_clip_tokenizer()
    ids = tok("a face with eyeglasses").input_ids
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.decode(ids, skip_special_tokens=True).strip() == "a face with eyeglasses"


def test_inversion_is_stored_once_and_reused(service, photo):
    from chatface.tools.schemas import AttributeEdit

    editor = service.open_photo(photo)
    gen = service.parts().generator
    assert gen.inversions == 1
    arrays = editor.latent().arrays
    assert arrays["zs"].shape[0] == STEPS and arrays["zs"].dtype == np.float16  # every step's noise map, stored
    tools = service.toolkit(editor)
    tools.apply_attribute([AttributeEdit(attribute="eyeglasses", strength=0.6)])
    tools.apply_attribute([AttributeEdit(attribute="hat", strength=0.6)], mode="change")
    again = service.open_session(editor.session_id)
    again._latent = None  # read back from memory, not from the open editor
    again.render(again.head().state)
    assert gen.inversions == 1  # two edits and a resumed render: never inverted again


def test_pixels_outside_the_mask_never_change_and_a_reverse_direction_changes_the_result(service, astronaut):
    from chatface.models.base import EditSpec

    gen = service.parts().generator
    latent = gen.invert(astronaut)
    glasses = gen.decode(astronaut, latent, {"eyeglasses": EditSpec(0.6, 500)})
    region = gen.edit_region(astronaut, latent, ["eyeglasses"])
    assert 0 < region.mean() < 0.2  # the face of a half-length portrait
    assert np.array_equal(glasses[~region], astronaut[~region])
    assert (glasses[region] != astronaut[region]).any()
    hair = gen.edit_region(astronaut, latent, ["blond_hair"])
    assert hair.sum() > region.sum()  # hair edits reach around and above the head
    # every step edited (T_edit 0: the tiny model's 4x4 attention masks are too coarse to act in a few late steps)
    forward = gen.decode(astronaut, latent, {"tanned": EditSpec(0.6, 0)})
    reverse = gen.decode(astronaut, latent, {"tanned": EditSpec(-0.6, 0)})
    assert not np.array_equal(reverse, forward)
    assert gen.concept("blond_hair", -0.6) == (gen.concepts["blond_hair"]["positive"], True)  # no negative text: reversed
    assert gen.concept("tanned", -0.6) == (gen.concepts["tanned"]["negative"], False)


def test_three_concepts_take_the_same_unet_calls_as_one(service, astronaut):
    from chatface.models.base import EditSpec

    gen = service.parts().generator
    latent = gen.invert(astronaut)
    gen.decode(astronaut, latent, {"smiling": EditSpec(0.6, 500)})
    one = gen.last_unet_calls
    gen.decode(astronaut, latent, {"smiling": EditSpec(0.6, 500), "eyeglasses": EditSpec(0.3, 600), "hat": EditSpec(0.9, 400)})
    assert gen.last_unet_calls == one == STEPS


def test_a_resumed_session_renders_the_same_node_bit_for_bit_in_a_new_process(service, photo, tiny_ledits, db_url, tmp_path):
    from chatface.tools.schemas import AttributeEdit

    editor = service.open_photo(photo)
    service.toolkit(editor).apply_attribute(
        [AttributeEdit(attribute="smiling", strength=0.6), AttributeEdit(attribute="hat", strength=0.3)]
    )
    stored = service.store.read_blob(editor.head().image_blob)
    out = tmp_path / "rerender.png"
    code = (
        "import sys; from chatface.configuration import Configuration; from chatface.tools.service import EditService; "
        "from chatface.models.images import encode_png; "
        f"s = EditService(Configuration(engine='ledits', models_dir={str(tiny_ledits)!r}, steps={STEPS}, device='cpu', dtype='float32', "
        f"database_url={db_url!r})); "
        f"e = s.open_session({editor.session_id!r}); open({str(out)!r}, 'wb').write(encode_png(e.render(e.head().state)))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert out.read_bytes() == stored


def test_cli_edit_and_chat_with_the_ledits_engine(tmp_path, photo):
    env = {"CHATFACE_HOME": str(tmp_path / "home"), "CHATFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATFACE_EMBEDDINGS": "0"}
    r = run_cli(["models", "make-tiny", tmp_path / "tiny-sd", "--engine", "ledits"], env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli(
        [
            "edit",
            photo,
            "add a hat and make her smile",
            "--engine",
            "ledits",
            "--models",
            tmp_path / "tiny-sd",
            "--steps",
            STEPS,
            "-o",
            tmp_path / "out.png",
        ],
        env=env,
    )
    assert "Traceback" not in r.stderr and "hat" in r.stdout and "smiling" in r.stdout
    # random weights: the edit may be too weak to see, and then the CLI says so and writes nothing
    assert (r.returncode == 0) == (tmp_path / "out.png").exists()
    sid = r.stderr.split("session ")[1].split(",")[0].split(":")[0] if r.returncode else r.stdout.split("session ")[1].split(",")[0]
    r = run_cli(["chat", "--session", sid, "--models", tmp_path / "tiny-sd", "--steps", STEPS], env=env, input="undo\nadd glasses\nquit\n")
    assert r.returncode == 0, r.stderr
    assert "node 0" in r.stdout and "eyeglasses" in r.stdout


def test_free_text_concepts_are_edited_stored_and_undone(service, photo):
    """ "a pirate hat" is a concept of its own (not the vocabulary's hat): rendered in the head region, scored with its
    own text, stored under its own key and undone like any edit."""
    from chatface.tools.schemas import AttributeEdit, TextConcept

    editor = service.open_photo(photo)
    tools = service.toolkit(editor)
    assert tools.context().free_text
    text, art = tools.apply_attribute(
        [AttributeEdit(attribute="smiling", strength=0.3)], concepts=[TextConcept(text="A pirate  hat", strength=0.9)]
    )
    head = editor.head()
    assert set(head.state) == {"smiling", "text:a pirate hat"}
    assert head.state["text:a pirate hat"]["strength"] == 0.9
    assert set(head.scores["direction"]) == {"smiling", "text:a pirate hat"}  # scored with "a photo of a face with a pirate hat"
    assert '"a pirate hat" +0.90' in text and not art["not_done"]
    gen = service.parts().generator
    assert gen.concept("text:a pirate hat", 0.9) == ("a pirate hat", False)
    assert gen.concept("text:a pirate hat", -0.9) == ("a pirate hat", True)
    lat = editor.latent()
    assert gen.edit_region(editor.source, lat, ["text:a pirate hat"]).sum() == gen.edit_region(editor.source, lat, ["hat"]).sum()
    image = editor.image_of(head)
    outside = ~gen.edit_region(editor.source, lat, list(head.state))
    assert np.array_equal(image[outside], editor.source[outside])
    tools.undo()
    assert editor.head().state == {}


def test_an_llm_is_told_it_may_use_free_text_and_its_concepts_are_applied(service, photo, tmp_path):
    from chatface.agent.planners.llm import make_chat_openai
    from chatface.configuration import Configuration
    from helpers import chat_agent, scripted_endpoint

    editor = service.open_photo(photo)
    with scripted_endpoint() as (url, handler):
        config = Configuration(planner="openai", model="scripted", base_url=url, api_key="test", llm_max_retries=0, llm_timeout_s=10)
        agent = chat_agent(editor, make_chat_openai(config), tmp_path, config)
        handler.script += [
            [
                (
                    "apply_attribute",
                    {"edits": [{"attribute": "smiling", "strength": 0.6}], "concepts": [{"text": "a pirate hat", "strength": 0.6}]},
                )
            ],
            "Done: a pirate hat and a smile.",
            [("apply_attribute", {"concepts": [{"text": "glasses", "strength": 0.6}]})],
            "Sorry.",
        ]
        r = agent.send("add a pirate hat and make him smile")
        assert r.head.strengths() == {"smiling": 0.6, "text:a pirate hat": 0.6}
        first = handler.requests[0]
        assert "this session's engine also edits from text" in first["messages"][0]["content"]
        schema = next(t for t in first["tools"] if t["function"]["name"] == "apply_attribute")["function"]["parameters"]
        assert "concepts" in schema["properties"]
        r = agent.send("add glasses as free text")
        tool_msgs = [m for m in handler.requests[3]["messages"] if m["role"] == "tool"]
        assert any("put it in 'edits' as attribute 'eyeglasses'" in m["content"] for m in tool_msgs)
        assert r.head.strengths() == {"smiling": 0.6, "text:a pirate hat": 0.6}  # the invalid call stored nothing
