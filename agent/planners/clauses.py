"""Clause analysis of a chat message: what each part of it is about, before any attribute is looked up.

The synonym table alone reads every word that names an attribute as a request for it: "put a hat on
the guy" would add masculine, "remove the people behind her" would edit her, "how old is she?" would
age her. This module splits a (normalised) message into clauses and gives each one a target:

- ``face``: a request about the face (the only clauses the attribute grammar reads);
- ``photo``: the whole picture, not the face (background, other people, filters, glare on lenses);
- ``system``: keyboard commands for the history ("ctrl+z", "cmd-shift-z");
- ``question``: a question about the image or the system ("could you guess his age?").

It also rewrites the face clauses into the grammar's canonical form, so that one rule covers a class
of phrasings instead of one sentence each:

- person nouns that only name who is meant ("the guy", "the old man", "the lady on the left") are
  replaced by a neutral word, so they never become gender or age edits; "as a man", "into a woman"
  and "like an old man" still describe the wanted face;
- negation scope: "not a fan of X", "I don't like X", "wipe X off", "X shouldn't be there", "she
  shouldn't be smiling" become a removal of X, and a removal verb carries over a coordinated list
  ("lose the goatee and the mustache"); "don't make her older, ..." cancels its own clause only;
- changes from A to B ("from black to pink", "swap X for Y", "Y instead of X") keep B (and remove
  X where X is an edit the user names to be replaced);
- noun lists share their head ("long wavy auburn hair", "eyes wider and green");
- life stages and decades ("as a toddler", "in his eighties") and skin lightness ("lighten her
  complexion") are mapped to the age and tanned axes with their strengths.

All of it is regular expressions over short strings: a message is analysed in about 0.1 ms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COLOURS = (
    r"black|blond|blonde|brown|red|ginger|auburn|copper|gray|grey|white|silver|blue|pink|purple|violet|lavender|green|hazel|golden|"
    r"platinum|brunette|chestnut"
)
HAIR_ADJ = r"long|longer|short|shorter|curly|curlier|wavy|straight|" + COLOURS
EYE_ADJ = r"bigger|big|larger|wider|smaller|narrower|" + COLOURS

# who is meant, not what to change: a determiner (or possessive) before a person noun
PERSON_NOUN = (
    r"grandpa|grandma|grandfather|grandmother|granddad|grandad|granny|dad|mom|mum|father|mother|son|daughter|wife|husband|"
    r"friend|boyfriend|girlfriend|bf|gf|brother|sister|uncle|aunt|cousin|boss|colleague|coworker|model|subject|man|woman|guy|girl|boy|lady|gentleman|dude|bloke|chap|fellow|person|kid|child|gal|male|female|men|women|people|folks|person"
)
PERSON_REF = (
    r"\b(?:(?:the|this|that|my|our|your|his|her|their)\s+|(?<=\bof ))(?:(?:old|older|young|younger|little|tall|short|other|first|second|"
    r"same|bald|bearded|blond|blonde|dark-haired|red-haired)\s+)*(?:" + PERSON_NOUN + r")\b"
    r"(?:\s+(?:on|in|at)\s+the\s+(?:left|right|middle|center|centre|front|back))?"
)

# parts of a picture that are not the face
PHOTO_OBJECT = (
    r"background|backdrop|behind (?:her|him|them)|in the back|sky|the people|other people|person behind|photobomb\w*|"
    r"monochrome|grayscale|greyscale|sepia|vintage|film look|film grain|grain|filter|instagram|crop|rotate|"
    r"watermark|caption|text|writing|(?:brighten|darken|lighten|sharpen|straighten) (?:the |this )?(?:photo|picture|image|pic)|logo|"
    r"frame|border|resolution|upscale|sharpen|denoise|noise|exposure|contrast|saturation|"
    r"brightness of the (?:photo|picture|image)|lighting|the light|reflection|glare|red-?eye|lens flare|colou?r grade|"
    r"the (?:photo|picture|image|pic|shot) (?:brighter|darker|warmer|cooler|sharper)|whole (?:photo|picture|image)|"
    r"shirt|jacket|clothes|outfit|dress|tie|necklace|tattoos?|wall|car|dog|cat|tree|building"
)
# keyboard shortcuts for the history
SYSTEM_UNDO = r"(?:ctrl|control|cmd|command|⌘)\s*[-+ ]?\s*z"
SYSTEM_REDO = r"(?:ctrl|control|cmd|command|⌘)\s*[-+ ]?\s*(?:y|shift\s*[-+ ]?\s*z)"

QUESTION_START = (
    r"(?:what|which|how|who|why|where|when|is|are|was|were|does|did|do you|can you (?:tell|guess|explain|see|do|handle|"
    r"edit|change)|could you (?:guess|tell|explain)|would you (?:say|guess)|tell me|any idea|i wonder|guess)\b"
)
EDIT_VERB = (
    r"make|give|add|put|turn|change|set|apply|remove|take|get rid|dye|paint|colou?r|swap|switch|try|let|bump|crank|increase|decrease|"
    r"reduce|tone|lose|drop|ditch"
)

NEGATED_LIKE = (
    r"(?:i'?m |i am )?not (?:a |the )?(?:big |huge )?fan of|(?:i )?(?:don'?t|do not|dont) (?:like|love|want|need|dig)|"
    r"(?:i )?(?:hate|dislike|can'?t stand|cannot stand)|not feeling|not into|sick of|tired of|enough of|"
    r"no (?:longer|more) (?:want|need)"
)


@dataclass
class Analysis:
    text: str  # the face clauses, rewritten to the grammar's canonical form
    system: str | None = None  # "undo" / "redo" for a keyboard command
    photo_only: bool = False  # every clause with content was about the whole photo
    photo_dropped: bool = False  # some clause was about the whole photo and was dropped
    question: bool = False  # a question about the image or the system, not a request
    cancelled: bool = False  # a clause was cancelled by "don't ..."


PHOTO_WORDS = frozenset(re.findall(r"[a-z]+", PHOTO_OBJECT))  # never "corrected" into face words ("grain" is not "grin")


def expand_lists(text: str) -> str:
    """ "long wavy auburn hair" -> "long hair, wavy hair, auburn hair"; "eyes wider and green" -> "wider eyes and green eyes"."""

    def hair(m: re.Match) -> str:
        words = re.findall(r"[a-z-]+", m.group(1))
        return ", ".join(f"{w} hair" for w in words if w not in ("and", "with"))

    text = re.sub(r"\b((?:(?:" + HAIR_ADJ + r")(?:,? (?:and |with )?)){2,})hair\b", hair, text)
    # "her lips red", "cheeks rosy": the adjective goes before its noun, where the synonym table has it
    text = re.sub(
        r"\b(lips|cheeks) ((?:a (?:bit|little|touch) |very |more |really |slightly )?)(red|redder|pink|pinker|rosy|rosier|glossy|"
        r"glossier|flushed|darker)\b",
        lambda m: f"{m.group(2)}{'red lips' if m.group(1) == 'lips' else 'rosy cheeks'}",
        text,
    )
    text = re.sub(
        r"\b(?:eyes|eye) ((?:" + EYE_ADJ + r"))(?:,| and| &)+ (" + EYE_ADJ + r")\b(?! (?:eyes|hair))",
        lambda m: f"{m.group(1)} eyes and {m.group(2)} eyes",
        text,
    )
    return text


_FILL = (
    r"(?:(?:a|an|the|her|his|their|this|that|like|kind of|kinda|bright|dark|light|deep|natural|current|boring|plain|dull|really|very)\s+)*"
)


def rewrite_from_to(text: str) -> str:
    """Keep the target of a change: "from black to pink" -> "to pink hair"; "swap X for Y" -> "remove X; Y"."""

    def colour_change(m: re.Match) -> str:
        before = m.string[max(0, m.start() - 16) : m.start()]  # "her eyes from brown to blue"
        eyes = bool(m.group(2)) and m.group(2).strip().startswith("eye") or m.group(1) == "hazel" or "eye" in before
        head = (m.group(5) or "").strip() or ("eyes" if eyes else "hair")
        return f" to {m.group(3)}{m.group(4)} {head}"

    text = re.sub(
        r"\bfrom "
        + _FILL
        + r"("
        + COLOURS
        + (
            r")( hair| eyes?)? (?:to|into|over to) (?:(?:like|kind of|kinda|a|an|some|jet|pitch|ash|honey|strawberry|icy|"
            r"dirty)\s+)*((?:(?:bright|dark|light|deep|vivid|pale|really|very)\s+)*)("
        )
        + COLOURS
        + r")\b( hair| eyes?)?",
        colour_change,
        text,
    )
    text = re.sub(
        r"\b(?:swap|switch|trade|exchange|replace) (?:out )?(the |her |his |their )?([a-z -]+?) (?:for|with) ", r"remove \1\2 ; ", text
    )
    # "change the glasses to sunglasses": an accessory or feature replaced by another (not "change her hair to red")
    text = re.sub(
        r"\b(?:change|turn|make) (the |her |his |their )?(?!(?:hair|eyes?|skin|face|it|him|her|them|me|colou?r|look|expression|smile)\b)"
        r"([a-z]+(?: [a-z]+)?) (?:to|into) (?=(?:a |an |some )?[a-z])",
        r"remove \1\2 ; ",
        text,
    )
    text = re.sub(r"\b([a-z -]+?) instead of (?:the |her |his )?([a-z -]+)$", r"\1", text)
    return text


def rewrite_negation(text: str) -> str:
    """Negation scope: dislikes and "off her face" become removals; "don't make X" cancels its clause (see analyse)."""
    text = re.sub(
        r"\b(?:(?:really|truly|honestly|just|so|seriously|totally|absolutely|kinda|kind of)\s+)*(?:"
        + NEGATED_LIKE
        + r")\s+(?:the |his |her |their |that |this |those |these )?",
        "remove ",
        text,
    )
    text = re.sub(
        r"\b(?:wipe|knock|slap|take|get|wipe away|scrub) (that |the |this |his |her )?([a-z -]+?) off (?:of )?(?:his|her|their|the) face\b",
        r"remove \2",
        text,
    )
    text = re.sub(r"\b(?:trim|cut|chop|shave) (?:away|off) (?:his |her |the |their )?", "remove ", text)
    text = re.sub(
        r"\b(?:shouldn'?t|should not|mustn'?t|must not|doesn'?t need to|does not need to|don'?t need to) (?:be wearing|have on|have|"
        r"wear) (?:a |an |the |any |those |that )?",
        "remove ",
        text,
    )
    text = re.sub(
        r"\b(?:she|he|they|the person) (?:shouldn'?t|should not|doesn'?t need|does not need|don'?t need) (?:a |an |the |any )?",
        "remove ",
        text,
    )
    text = re.sub(
        r"\b(?:she|he|they|it|the person) (?:shouldn'?t|should not|mustn'?t|must not|doesn'?t need to|does not need to) be ([a-z]+ing)\b",
        r"no \1",
        text,
    )
    text = re.sub(r"\bno more (?:of )?(?:the |his |her )?", "remove ", text)
    text = re.sub(r"\b(?:not|no) (?:with|wearing) (?:a |the |any )?", "remove ", text)
    text = re.sub(r"\b(?:stop|quit) (?:smiling|grinning)\b", "no smile", text)
    return text


def rewrite_life_stages(text: str) -> str:
    """Decades and life stages onto the age axis, with the spec's strengths (a life stage is a strong change)."""
    old = r"(?:seventies|eighties|nineties|70s|80s|90s|seventy|eighty|ninety)"
    text = re.sub(r"\b(?:in|into) (?:his|her|their|the) (?:late |early |mid[- ])?" + old + r"\b", " very old ", text)
    text = re.sub(r"\b(?:in|into) (?:his|her|their|the) (?:late |early |mid[- ])?(?:fifties|sixties|50s|60s)\b", " old ", text)
    text = re.sub(r"\b(?:in|into) (?:his|her|their|the) (?:late |early |mid[- ])?(?:teens|twenties|20s)\b", " young ", text)
    text = re.sub(
        r"\b(?:(?:as|like|into) |(?:him|her|them|me|it) (?=an? ))(?:a |an )?(?:little |small |tiny )?(?:toddler|baby|infant|newborn|"
        r"little kid|little boy|little girl|small child|young child|kindergartner|preschooler)\b",
        " very young ",
        text,
    )
    text = re.sub(
        r"\b(?:as|like|into) (?:a |an )?((?:very |really )?)(?:old|elderly|ancient) (?:man|woman|lady|person|guy|grandpa|grandma)\b",
        r" \1old ",
        text,
    )
    text = re.sub(r"\b(?:as|like|into) (?:a |an )?(?:centenarian|hundred year old|100 year old)\b", " fully old ", text)
    text = re.sub(
        r"\b(?:as|like|into) (?:a |an )?(?:teenager|teen|kid|child|schoolboy|schoolgirl|high schooler|student)\b", " young ", text
    )
    return text


def rewrite_hair_verbs(text: str) -> str:
    """Verbs that name a hair colour: "bleach it" = blond hair."""
    text = re.sub(r"\b(?:bleach|bleached|peroxide)(?: (?:it|them|her hair|his hair|their hair|the hair))?\b", " blond hair ", text)
    return re.sub(
        r"\b(?:dye|colou?r|paint|tint) (?:it|them|that) (?:(?:a|an|some)\s+)?(" + COLOURS + r")\b(?! (?:hair|eyes))", r"\1 hair", text
    )


def rewrite_skin(text: str) -> str:
    """Skin lightness is the tanned axis: "lighten her complexion" = paler, "darker skin" = tanned."""
    skin = r"(?:skin(?: tone)?|complexion|skintone|skin colou?r)"
    text = re.sub(r"\b(?:lighten|brighten|whiten|fairer)\s+(?:up\s+)?(?:his |her |their |the )?" + skin, " paler ", text)
    text = re.sub(r"\b(?:darken|deepen)\s+(?:his |her |their |the )?" + skin, " tanner ", text)
    text = re.sub(r"\b(?:lighter|fairer|paler|whiter)\s+" + skin, " paler ", text)
    text = re.sub(r"\b(?:darker|deeper|browner)\s+" + skin, " darker skin ", text)
    text = re.sub(
        r"\b" + skin + r"\s+((?:a (?:bit |little |touch |tad )|slightly |much |way |very |lot )?)(?:lighter|fairer|paler)\b",
        r" \1paler ",
        text,
    )
    text = re.sub(
        r"\b" + skin + r"\s+((?:a (?:bit |little |touch |tad )|slightly |much |way |very |lot )?)(?:darker|deeper)\b",
        r" \1darker skin ",
        text,
    )
    return text


def rewrite_split_particles(text: str) -> str:
    """A phrasal verb split around its object reads joined: "tone the ageing down" -> "tone down the ageing", "dial
    his smile back" -> "dial back his smile", "turn the blush up" -> "turn up the blush" (one or two words between)."""
    return re.sub(
        r"\b(tone|dial|turn|scale|crank|amp)\s+((?:the|his|her|their|that|this|my|your)\s+)?([a-z-]+(?:\s[a-z-]+)?)\s+(down|back|up)\b",
        lambda m: f"{m.group(1)} {m.group(4)} {m.group(2) or ''}{m.group(3)}",
        text,
    )


def mask_person_nouns(text: str) -> str:
    """ "put a hat on the guy" -> "put a hat on the person": who is meant is not what to change."""
    return re.sub(PERSON_REF, " the person ", text)


_BOUNDARY = r"([.;!?]\s+|,\s*(?:but|and|then|so)?\s*|\s(?:and|but|then|after that|also|plus)\s)"


# a sentence that tells how things are ("my dad had this huge mustache back then", "she has brown eyes", "he looks so
# young!") names attributes without asking for them: it is dropped whole when nothing in it asks, wishes or complains
_STORY_START = (
    r"\W*(?:(?:and|but|so|because|since|as|oh|well|ha|haha|lol|hi|hey|hello|wow|ok|okay|honestly|yeah)\W+)*"
    r"(?:(?:back )?when |while |ever since )?"
    r"(?:he|she|they|i|we|it|this|that|there|my|his|her|our|their|the|nobody|everyone|everybody)\b[\w' -]{0,40}?"
    r"\b(?:is|was|were|are|am|'s|'re|'m|'ve|has|had|have|looks?|looked|seems?|seemed|keeps?|kept|wears?|wore|used to|"
    r"always|never|refuses|says|said|loves?|loved|hates?|thinks?|took|takes|got|gets|makes|making|made|went|goes|came|"
    r"lives|lived|works|worked|smiled|smiles|grew|turned|became)\b"
)
_ASKS = (
    r"\b(?:could|can|would|will|please|pls|plz|make|give|add|put|turn|change|remove|take|get rid|lose|losing|drop|ditch|"
    r"try|let'?s|let|i'?d like|i would like|i want|i wanna|we want|wants?|wanted|wish|wishes|wonder|what if|how about|"
    r"maybe|perhaps|more|less|too|bit|little|instead|undo|redo|again|reset|start over|original|should|need|needs|"
    r"fake|weird|wrong|strange|unnatural|overdone|much|odd|creepy|harsh|patchy|not|don'?t|no|without|if|rather|prefer|"
    r"love to|like to|like it|like (?:him|her|them) with|go back|back to|step|version)\b"
)


def drop_stories(text: str) -> tuple[str, bool]:
    """``text`` without its sentences that only tell how things are (see _STORY_START); whether any was dropped.
    A message that is nothing but such sentences is kept as it is (the grammar then finds no request in it)."""
    parts = re.split(r"([.;!?]+\s+)", text)
    kept, dropped = [], False
    for i in range(0, len(parts), 2):
        sentence, sep = parts[i], parts[i + 1] if i + 1 < len(parts) else ""
        if re.match(_STORY_START, sentence) and not re.search(_ASKS, sentence):
            dropped = True
            continue
        kept.append(sentence + sep)
    if not dropped or not "".join(kept).strip(" .!?;"):
        return text, False
    return "".join(kept), True


def _clauses(text: str) -> list[tuple[str, str]]:
    """(separator before, clause) pairs; the separators are kept so that the kept clauses read as before."""
    parts = re.split(_BOUNDARY, text)
    out, sep = [], ""
    for i, part in enumerate(parts):
        if i % 2:
            sep = part
        elif part.strip():
            out.append((sep, part))
            sep = ""
    return out


def analyse(text: str, question_mark: bool = False) -> Analysis:
    """Targets and canonical form of a normalised (lower-case) message; ``question_mark``: the raw message ended with "?"."""
    if re.fullmatch(r"\s*(?:please |pls )?" + SYSTEM_REDO + r"\W*(?:please|pls)?\s*", text):
        return Analysis(text, system="redo")
    if re.fullmatch(r"\s*(?:please |pls |just )?" + SYSTEM_UNDO + r"(?:\s*(?:x\s*)?(\d|twice|two times))?\W*(?:please|pls|that)?\s*", text):
        return Analysis(text, system="undo")
    text = re.sub(r"\bblack (?:and|&|n) white\b|\bb ?& ?w\b", "monochrome", text)
    # a self-correction replaces what came before it: "add a cap... no wait, just undo"
    parts = re.split(r"\b(?:no wait|wait,? no|actually no|no,? actually|scratch that|on second thought|second thoughts)\b[ ,.]*", text)
    if len(parts) > 1 and parts[-1].strip(" ,."):
        text = parts[-1]
    text, _ = drop_stories(text)
    out = Analysis(text)
    stripped = text.strip()
    if (
        re.match(r"\s*(?:hey |hi |ok |so |and |hmm,? )?" + QUESTION_START, stripped)
        and (question_mark or re.search(r"\b(?:do you think|guess|wonder)\b", stripped))
        and not re.search(r"\b(?:can|could|would|will) you (?:please )?(?:" + EDIT_VERB + r")\b", stripped)
        and not re.search(r"\bwhat (?:if|about)\b|\bhow about\b|\b(?:what|how) would (?:he|she|they|it|i|this) look\b", stripped)
    ):
        out.question = True
    keep: list[str] = []
    for sep, clause in _clauses(text):
        if re.search(r"\b(?:" + PHOTO_OBJECT + r")\b", clause) and not re.search(
            r"\b(?:face|skin|lips|eyes|hair|beard|smile)\b(?! on)", re.sub(r"\b(?:" + PHOTO_OBJECT + r")\b", "", clause)
        ):
            out.photo_dropped = True
            continue
        if re.search(r"\b(?:don'?t|do not|dont|never|no need to|stop trying to)\s+(?:make|turn|give|add|put|change)\b", clause) and not (
            re.search(r"\bwhy (?:you |not you )?(?:don'?t|do not|dont)\b", clause)  # "why you don't make her smile?" asks for it
        ):
            out.cancelled = True
            continue
        keep.append((sep if keep else "") + clause)
    out.photo_only = out.photo_dropped and not keep
    face = "".join(keep)
    face = rewrite_life_stages(face)
    face = rewrite_skin(face)
    face = rewrite_hair_verbs(face)
    face = rewrite_split_particles(face)
    face = mask_person_nouns(face)
    face = rewrite_negation(face)
    out.text = re.sub(r"\s+", " ", face).strip()
    return out
