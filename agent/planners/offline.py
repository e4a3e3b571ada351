"""The offline planner: a LangChain chat model with tool calling that needs no network.

The graph hands it the session's edit state as data (``edit_context``, an
EditContext: the strengths, the last edited attributes and every version);
an LLM reads the same facts from its system prompt. It parses the newest user
message with IntentParser and answers with tool calls (apply_attribute / undo
/ redo / reset, checkout for "go back to the version with lipstick") or with
text (chit-chat, a question back when a request is too vague). After the
tools ran it reports their results. Because it is a real BaseChatModel, the
graph calls it as it calls ChatOpenAI.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any, ClassVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from ...tools.capabilities import engine_offers, phrase
from ...tools.edit_state import EditContext
from ...tools.vocabulary import default_vocabulary
from .acts import default_act_model
from .intent_parser import Intent, IntentParser
from .mentions import default_mention_model

HOW_MUCH = 'say how much ("a little", "very", "30%"), and "more", "less", "undo", "redo" or "start over" at any time.'


def help_text(context: EditContext) -> str:
    """What this session's engine can do, in people's words (its own offers: nothing it would refuse)."""
    offers = context.offers or tuple(engine_offers("offline"))
    engine = f" (the {context.engine} engine)" if context.engine not in ("offline", "unrendered") else ""
    return f"I edit the face in your photo{engine}. Ask for {phrase(list(offers))}; {HOW_MUCH}"


def question_back(context: EditContext) -> str:
    offers = context.offers or tuple(engine_offers("offline"))
    return f"What would you like me to change? For example: {phrase(list(offers), most=6)}."


def _call(name: str, args: dict) -> dict:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:16]}", "type": "tool_call"}


# "as much smile as in this photo", "the lipstick of this picture", "smile like in the reference", "copy her lipstick
# from the attached photo" (not "the woman in this photo": that is the photo being edited)
# "like the reference", "the reference photo's smile" (not "I need a reference image for my villain": a story)
_REFERENCE = re.compile(
    r"\b(?:the|this|that|my|our|attached|uploaded|given)\s+(?:\w+\s+)?reference\b|^\W*reference\b"
    r"|\b(?:of|from|like(?: in)?|as in|as on)\s+(?:this|that|the|my|the other|the attached|the new)\s+"
    r"(?:other\s+)?(?:photo|picture|pic|image|one|portrait|painting|drawing|artwork|shot)\b",
    re.I,
)
# the reference's look as a whole: "in the style of this portrait", "paint me like this painting", "its vibe"
_STYLE = re.compile(
    r"\b(?:style|styled|vibe|look and feel|aesthetic|lighting|colou?r (?:scheme|palette|grading)|painted|paint (?:me|her|him|them|it))\b"
    r"|\b(?:like|as) (?:this|that|the) (?:portrait|painting|drawing|artwork)\b",
    re.I,
)
_STYLE_SLIGHT = re.compile(r"\b(?:a touch|a hint|a bit|a little|slightly|subtle|subtly|lightly|gently|some)\b", re.I)
_STYLE_STRONG = re.compile(r"\b(?:fully|completely|strongly|strong|all the way|entirely|a lot|heavily|totally)\b", re.I)
# what can be read off a reference, in the words people use for it when the grammar finds no attribute
_REFERENCE_WORDS = (
    ("lipstick", "lipstick"),
    ("lips", "lipstick"),
    ("smil", "smiling"),
    ("grin", "smiling"),
    ("eyes", "big_eyes"),
    ("blush", "rosy_cheeks"),
    ("cheeks", "rosy_cheeks"),
    ("mouth", "mouth_open"),
    ("face", "chubby"),
)


def reference_request(text: str) -> bool:
    """Whether ``text`` asks for something "like in this photo" (an edit guided by a reference photo)."""
    return _REFERENCE.search(text) is not None


_THEN_EDIT = "chatface_then_edit"  # marks a plan's undo that an edit follows, once the undo has run

# "put the glasses back", "bring it back", "back on": after a removal, its undo (see plan)
_PUT_BACK = re.compile(r"\b(?:put|bring|give|add)\b.{0,20}\bback\b|\bback on\b", re.IGNORECASE)
# "go back to the version with lipstick", "return to the one where she had glasses", "go back to node 3"
_TO_VERSION = re.compile(
    r"\b(?:go(?:ing)?\s+back|get\s+back|return|revert|switch\s+back|back|restore)\s+to\s+(?:the\s+)?"
    r"(?:earlier\s+|previous\s+|old\s+)?(?:version|one|image|picture|photo|edit|look)\s+"
    r"(?:with|where|that\s+had|which\s+had|when\s+\w+\s+had)\s+(?P<what>[^.!?;]+)",
    re.I,
)
_TO_NODE = re.compile(
    r"\b(?:go(?:ing)?\s+back|get\s+back|return|revert|switch|back|jump|go)\s+to\s+(?:history\s+)?"
    r"(?:node|version|step)\s+(?:#|number\s+)?(?P<n>\d+)\b",
    re.I,
)


_PARSER_LOCK = threading.Lock()  # one parser is built, even when a warm-up and a first message race


class OfflinePlanner(BaseChatModel):
    use_embeddings: bool = True
    parser: Any = None
    reads_edit_context: ClassVar[bool] = True  # the graph passes the session's EditContext to _generate

    @property
    def _llm_type(self) -> str:
        return "chatface-offline"

    def bind_tools(self, tools, **kwargs):
        return self.bind(**kwargs)

    def warm(self) -> None:
        """Build the parser now (with its sentence model, when used), so the first message does not wait for it."""
        self._parser()

    def _parser(self) -> IntentParser:
        with _PARSER_LOCK:
            return self._build_parser()

    def _build_parser(self) -> IntentParser:
        if self.parser is None:
            embedder = None
            if self.use_embeddings:
                from .embeddings import PhraseMatcher, available

                if available():  # otherwise the grammar alone (the model is an optional install)
                    embedder = PhraseMatcher()
                    embedder.warm()
            self.parser = IntentParser(embedder=embedder, acts=default_act_model(), mentions=default_mention_model())
        return self.parser

    def _parse(self, text: str, state: dict, last: list[str]) -> Intent:
        """The parse of a message, kept for the call after the tools ran (the same message, state and last edit)."""
        key = (text, tuple(sorted(state.items())), tuple(last))
        cached = self.__dict__.get("_last_parse")
        if cached is not None and cached[0] == key:
            return cached[1]
        intent = self._parser().parse(text, state, last)
        self.__dict__["_last_parse"] = (key, intent)
        return intent

    def to_version(self, text: str, context: EditContext) -> AIMessage | None:
        """A checkout for "go back to the version with X" / "go back to node N"; None when the message is not that."""
        m = _TO_NODE.search(text)
        if m is not None:
            seq = int(m.group("n"))
            if not any(v.seq == seq for v in context.versions):
                return AIMessage(content=f"There is no node {seq} in this session's history.")
            return AIMessage(content="", tool_calls=[_call("checkout", {"node": seq})])
        m = _TO_VERSION.search(text)
        if m is None:
            return None
        described = self._parser().parse(f"add {m.group('what')}", {}, [])
        wanted = {c.attribute: c.strength for c in described.changes if c.strength}
        if not wanted:
            return None
        version = context.with_attributes(wanted)
        if version is None:
            return AIMessage(content=f"No earlier version has {', '.join(wanted)}; nothing was changed.")
        return AIMessage(content="", tool_calls=[_call("checkout", {"node": version.seq})])

    def plan(self, text: str, state: dict, last: list[str], context: EditContext | None = None) -> tuple[Intent, AIMessage]:
        if context is not None:
            back = self.to_version(text, context)
            if back is not None:
                return Intent("undo" if back.tool_calls else "none", note="version"), back
        context = context or EditContext(strengths=dict(state))
        if reference_request(text):
            return self.from_reference(text, state, last, context)
        intent = self._parse(text, state, last)
        if intent.action == "edit":
            if intent.undo_steps:  # "undo that and add X": the edit is planned after the undo, on the state it restores
                return intent, AIMessage(
                    content="", tool_calls=[_call("undo", {"steps": intent.undo_steps})], additional_kwargs={_THEN_EDIT: True}
                )
            edits = [{"attribute": c.attribute, "strength": c.strength} for c in intent.changes]
            return intent, AIMessage(
                content="", tool_calls=[_call("apply_attribute", {"edits": edits, "mode": "set", "request": text[:2000]})]
            )
        if intent.action == "redo" and not context.redoable and context.removed_last and _PUT_BACK.search(text):
            intent = Intent("undo", steps=1, note="put back what the last edit removed")  # nothing undone: undo the removal
        if intent.action == "undo":
            return intent, AIMessage(content="", tool_calls=[_call("undo", {"steps": intent.steps})])
        if intent.action == "redo":
            return intent, AIMessage(content="", tool_calls=[_call("redo", {"steps": intent.steps})])
        if intent.action == "reset":
            return intent, AIMessage(content="", tool_calls=[_call("reset", {})])
        if intent.action == "clarify":
            return intent, AIMessage(content=question_back(context))
        if intent.note == "photo":
            return intent, AIMessage(
                content="That is about the whole photo, not the face: chatface edits only the face "
                "(expression, age, hair, eyes, make-up, accessories), so I left the photo as it is."
            )
        return intent, AIMessage(content=_small_talk(text, help_text(context)))

    def from_reference(self, text: str, state: dict, last: list[str], context: EditContext) -> tuple[Intent, AIMessage]:
        """An apply_reference for the attributes the message names; without an attached reference, a request for one."""
        if not context.reference:
            return Intent("none", note="reference"), AIMessage(
                content=(
                    "Attach the reference photo first (chat: 'reference FILE'; edit: --reference FILE; the web page: drop it "
                    "into the chat), then ask again."
                )
            )
        lowered = text.lower()
        style = _STYLE.search(text) is not None
        named = (
            []
            if style and not re.search(r"\b(?:and|with|plus|also)\b", lowered)
            else [c.attribute for c in self._parse(text, state, last).changes]
        )
        if not style:
            named += [a for word, a in _REFERENCE_WORDS if word in lowered and a not in named]
        if not named and not style:
            return Intent("clarify", note="reference"), AIMessage(
                content=("What should I take from the reference photo: its smile, its lipstick, its eyes, its blush?")
            )
        named = list(dict.fromkeys(named)) + (["style"] if style else [])
        args: dict = {"take": named, "request": text[:2000]}
        if style:
            args["style_strength"] = 0.3 if _STYLE_SLIGHT.search(text) else 0.9 if _STYLE_STRONG.search(text) else 0.6
        return Intent("edit", note="reference"), AIMessage(content="", tool_calls=[_call("apply_reference", args)])

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, edit_context: EditContext | None = None, **kwargs
    ) -> ChatResult:
        context = edit_context or EditContext(strengths={})  # called outside the graph: a fresh session
        vocab = default_vocabulary()
        # the vocabulary is all this planner understands: free-text concepts (an LLM's, over MCP...) stay in the
        # state as they are, but "more" or "it" never refer to them here
        state = {a: v for a, v in context.strengths.items() if a in vocab}
        last = [a for a in context.last_changed if a in vocab]
        last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=None)
        if last_human is None:
            return _result(AIMessage(content=help_text(context)))
        content = messages[last_human].content
        text = content if isinstance(content, str) else str(content)
        after = messages[last_human + 1 :]
        if not after:
            return _result(self.plan(text, state, last, context)[1])
        # Tools have run. "undo that and add X": after the undo, make the edit on the restored state
        # (only a turn whose tools undid and applied nothing can be that; any other turn is reported at once).
        # The first plan says so itself: parsed again on the restored state, "undo the age one" would ask for an age.
        called = [c["name"] for m in after if isinstance(m, AIMessage) for c in m.tool_calls]
        first = next((m for m in after if isinstance(m, AIMessage)), None)
        if first is not None and first.additional_kwargs.get(_THEN_EDIT) and "apply_attribute" not in called:
            fresh = self._parser().parse(_without_undo(text), state, last)
            if fresh.changes:
                edits = [{"attribute": c.attribute, "strength": c.strength} for c in fresh.changes]
                return _result(
                    AIMessage(content="", tool_calls=[_call("apply_attribute", {"edits": edits, "mode": "set", "request": text[:2000]})])
                )
        results = [m for m in after if isinstance(m, ToolMessage)]
        return _result(AIMessage(content=_report(results)))


def _without_undo(text: str) -> str:
    import re

    from .intent_parser import UNDO

    text = re.sub(r"(?:" + UNDO + r")(?: that| it| this| the last (?:one|edit|change))?", " ", text.lower())
    # a bare "instead" meant what the undo took away: "undo that, beard instead" keeps the stubble from before
    return re.sub(r"\b(?:instead|insted|instaed)\b(?! of)", " ", text)


def _result(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


def _report(results: list[ToolMessage]) -> str:
    parts = []
    for m in results:
        content = m.content if isinstance(m.content, str) else str(m.content)
        content = content.replace(" Tell the user.", "")
        if m.status == "error" or content.startswith("Error"):
            parts.append(f"Sorry, that did not work: {content.removeprefix('Error: ')}")
        else:
            parts.append(content)
    return " ".join(parts) or "Done."


def _small_talk(text: str, help_reply: str) -> str:
    t = text.lower()
    if any(w in t for w in ("thank", "thx", "cheers")):
        return "You're welcome! Tell me if you want to change anything else."
    if any(w in t for w in ("what can you", "help", "how does", "how do", "what do you")):
        return help_reply
    if any(w in t for w in ("bye", "that's all", "thats all", "done", "that is all")):
        return "Glad to help. Your edits are saved in this session."
    if any(t.startswith(w) for w in ("hi", "hello", "hey", "good morning", "good evening")):
        return "Hello! " + help_reply
    return "I'm here to edit the photo. " + help_reply
