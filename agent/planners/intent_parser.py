"""The offline planner's understanding of a message: action, attributes, strengths.

The message first goes through clauses.py (targets of its clauses: face, whole photo, system,
question; person nouns, negation scope, from-A-to-B, lists, life stages rewritten into canonical
form). The face clauses are then read from the vocabulary (ids and synonyms), the grammar of editing requests
(strength words, relative changes, removal, undo/redo/reset, chit-chat, vague
requests) and, for paraphrases the synonym table does not hold, sentence
embeddings. The arithmetic is shared/spec/intents.md's. It is a pure function
of (message, current state, last edited attributes), so it is easy to test and
fast (a lexical parse takes well under a millisecond).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from collections.abc import Sequence
from typing import Callable

from ...tools.edit_state import clamp
from ...tools.vocabulary import Vocabulary, default_vocabulary
from .acts import ActGuess
from .clauses import PHOTO_WORDS, analyse, drop_stories, expand_lists, rewrite_from_to
from .mentions import Mention, MentionModel

SLIGHT, DEFAULT, STRONG, FULL = 0.3, 0.6, 0.9, 1.0

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "once": 1,
    "twice": 2,
    "thrice": 3,
}

ABS_FULL = (
    r"fully|maximum|max|maxed|as much as possible|as \w+ as (?:possible|you can|it gets)|completely|totally|all the way|100 ?%|to the max"
    r"|biggest|strongest|widest|longest|darkest|thickest"
)
ABS_STRONG = (
    r"bushy|thick|huge|giant|gigantic|ginormous|colossal|whopping|enormous|bright|vivid|massively|enormously|incredibly|insanely|lots|"
    r"very|a lot|lots of|much|strongly|strong|really|extremely|dramatically|dramatic|heavy|heavily|intense|intensely|super|bold|huge|"
    r"massive|big|loads of|tons of|heaps of|plenty of|seriously|way|hugely|so much|so very|wide|widely|proper|full-on|a proper|"
    r"from ear to ear"
)
ABS_SLIGHT = (
    r"little|tiny|"
    r"slightly|slight|a little|a little bit|a tiny bit|tiny bit|a wee bit|a teeny bit|a bit|a touch|a tad|tad|subtle|subtly|light|"
    r"lightly|a hint of|hint of|mild|mildly|faint|small|soft|softly|gentle|gently|barely|somewhat|kinda|kind of|a smidge|a trace of|"
    r"trace of|a dash of|a dab of|a pinch of|a hint|just a hint"
)
ABS_ANY = ABS_FULL + "|" + ABS_STRONG + "|" + ABS_SLIGHT  # any word of an absolute amount
COMPARATIVE_MORE = r"stronger|bigger|larger|wider|longer|darker|thicker|brighter|deeper|heavier|bolder|fuller|redder|curlier|bushier"
COMPARATIVE_LESS = r"weaker|smaller|shorter|thinner|lighter|fainter|softer|subtler|narrower|fewer|lower|looser"
_COMPARATIVE_WORDS = frozenset((COMPARATIVE_MORE + "|" + COMPARATIVE_LESS).split("|"))
REL_MORE = r"more|increase|intensify|boost|amp up|crank up|push|further|extra|even more|turn up|up the|" + COMPARATIVE_MORE
REL_LESS = (
    r"less|reduce|decrease|tone down|tone (?:it|that|this|them) down|dial down|dial (?:it|that|this) (?:down|back)|dial back|soften|turn "
    r"down|toned down|toned (?:it|that|this|them) down|dialled down|dialed down|too much|too strong|overdone|not so much|scale back|"
    + COMPARATIVE_LESS
)
REL_SLIGHT = r"a bit|slightly|a little|a little bit|little bit|a tiny bit|a wee bit|a touch|a tad|just a bit|somewhat"
REL_MUCH = r"much|a lot|way|far|lots|significantly|considerably"
REMOVAL = (
    r"remove|removing|losing|lost|drop|take away|take off|take out|get rid of|lose|lose the|ditch|delete|erase|without|no more|no|"
    r"not(?! (?:so|as|that|too)\b)|don't want|dont want|eliminate|clear|cancel|strip|undo the|revert the|shave off|shave|"
    r"scrap(?= (?:the|his|her)\b)|(?:weren't|wasn't|werent|wasnt)(?! (?:so|as|that|too)\b)"
)
REMOVAL_VERB_PHRASES = {"shave"}  # synonyms that also act as a removal verb for a following attribute ("shave off his mustache")
PRONOUN = r"it|them|that|those|this|these|both"
GENDER_NOUNS = {"man", "woman", "guy", "girl", "boy", "lady", "male", "female"}
COLOUR_WORDS = {
    "hair": {
        "black": "black_hair",
        "blond": "blond_hair",
        "blonde": "blond_hair",
        "golden": "blond_hair",
        "platinum": "blond_hair",
        "brown": "brown_hair",
        "brunette": "brown_hair",
        "chestnut": "brown_hair",
        "red": "red_hair",
        "ginger": "red_hair",
        "auburn": "red_hair",
        "copper": "red_hair",
        "gray": "gray_hair",
        "grey": "gray_hair",
        "white": "gray_hair",
        "silver": "gray_hair",
        "blue": "blue_hair",
        "pink": "pink_hair",
        "purple": "purple_hair",
        "violet": "purple_hair",
        "lavender": "purple_hair",
        "green": "green_hair",
    },
    "eyes": {"blue": "blue_eyes", "green": "green_eyes", "brown": "brown_eyes", "hazel": "brown_eyes"},
}
HAIR_ONLY_COLOURS = {"blond", "blonde", "brunette", "ginger", "auburn", "platinum", "redhead", "copper", "chestnut"}
_GROUP_OF_COLOUR = {a: set(words.values()) for words in COLOUR_WORDS.values() for a in words.values()}
# grammar words the typo fixer may correct to, besides the vocabulary's own words
GRAMMAR_WORDS = (
    "slightly little subtle subtly extremely dramatically strongly really very more less much bigger smaller stronger "
    "weaker please remove undo redo reset again glasses older younger lighter darker longer shorter"
).split()
SCAFFOLDING = (
    r"^(?:(?:hey|hi|ok|okay|so|now|and|well|hmm|actually|please|pls),? )*"
    r"(?:(?:can|could|would|will) you (?:please )?|i (?:want|would like|'d like|wish) (?:you )?(?:to )?|let's |lets |please )?"
    r"(?:make|turn|give|render|show|transform|change|edit|have|get|let|put)? ?(?:him|her|them|it|me|the (?:face|person|guy|man|woman|"
    r"girl|photo|picture|image))? ?"
    r"(?:to )?(?:look|seem|appear)? ?(?:like|as if|as though|into)? ?"
)

UNDO = (
    r"undo|cmd ?z|command ?z|scrap (?:that|this|it)(?! all)|go back|step back|revert|take (?:that|it) back|previous (?:one|version|image|"
    r"state)|back a step|back one|one step back|roll back|rollback|ctrl ?z"
    r"|take back (?:the )?(?:last|previous|past) (?:one|two|three|four|five|\d|edit|change|step)"
    r"|(?:one|two|three|four|five|\d) steps? back"  # learners' "return two steps back"
    # learners' "return to the red"
    r"|return to (?!(?:the |his |her )?(?:original|start|beginning|first|photo|picture|image|how|normal))(?:the |his |her )?[a-z]+"
    r"|(?:^|(?<=[.,] ))back(?= *\.? *$)"  # "hmm no, too much. back."
    # learners' "cancel" is an undo when it names no thing: "cancel.", "cancel this, return the sad", "cancel two times"
    r"|cancel(?= *$| *[,.;]| (?:this|that|it)\b| (?:the )?last\b| (?:one|two|three|four|five|\d) (?:times?|last|changes?|steps?)\b)"
)
REDO = (
    r"redo|re-do|re do|bring (?:it|that) back|put (?:it|that) back|re-?apply|apply (?:it|that) again"
    r"|^do (?:it|that) again(?:\W*$|[,.] (?:i want|please|i liked|i like))|"
    r"undo the undo|forward again|go forward|^(?:make|do) (?:it )?again(?: the same)?\W*$|^(?:the )?same again\W*$"
)
RESET = (
    r"start over|start again|start fresh|from scratch|reset|(?:back|return) to (?:the )?original|original (?:photo|image|picture|one)|"
    r"revert (?:all|"
    r"everything)|undo (?:all(?! (?:two|three|four|five|\d)\b)|everything)|(?:go |going )?back to the (?:start|beginning)"
    r"|clear (?:all|everything)|remove (?:all|every|everything)(?: the)?(?: edits| changes)?|(?:all|"
    r"every) (?:the )?(?:edits|changes) (?:gone|removed)|wipe|scrap (?:everything|it all|all)|clean slate|fresh start"
)
DELEGATE = (
    r"your call|up to you|dealer'?s choice|surprise me|you decide|you choose|your choice|whatever you (?:think|like|want)|idk|i don'?t "
    r"know|dunno|anything(?: you like)?|something(?: nice| fun| cool)?|make it pop|do your thing|go wild|go crazy"
)
VAGUE = (
    r"amazing|stunning|gorgeous|fabulous|fantastic|incredible|awesome|hot|sexy|better|nicer|prettier|improve|improved|fix|enhance|"
    r"enhanced|more attractive|attractive|beautiful|beautify|good|great|cooler|cool|different|change (?:something|it|her|him|them)|do "
    r"something|edit (?:it|this|her|him)|make it pop|pop|touch up|touch-up|glow up|glow-up|perfect|look good|look nice|something else|"
    r"surprise me|whatever|fancier|interesting|better looking|more interesting|spice|prettify|stylish|hotter|cuter|weird|"
    r"something'?s (?:off|wrong|not right)|something is (?:off|wrong|not right)|not quite right"
)
CHAT = (
    r"hi|hello|hey|thanks|thank you|thx|cheers|great job|good job|nice|perfect|awesome|that's all|thats all|that is all|done|bye|goodbye|"
    r"ok|okay|cool|love it|looks good|looks great|what can you do|how does|what is|what's|who|why|how are you|help|can you explain|no "
    r"thanks|nothing|never ?mind|good morning|good evening|wow|lol|haha"
)
# how a short follow-up may open without adding to what it asks: "hmm, what if it were just a bit more?"
HEDGES = r"^(?:\W*(?:and\s+)?(?:hmm+|ok|okay|so|well|not sure|but|maybe|perhaps|what if|i wonder if|i think|honestly|actually)\b)+"
ABOUT_THE_TOOL = (
    r"(?:the|this|your) (?:tool|app|program|system|editor|software|bot|thing)(?! to\b)|for the (?:tool|app|program|system)"
    r"|(?:the|an|each|every|my) (?:strength|slider|setting)s? (?:of|for|on)|(?:the )?(?:\w+ )?options\b|difference between"
    r"|(?:hair|eye) colou?rs\b(?! (?:too|as well)\b)|(?:how|where) do i\b(?! make)"
    r"|(?:if|when|once|after) i (?:undo|redo|reset|remove|delete|close|upload)|do you (?:store|keep|save|share|delete|send|sell)"
    r"|(?:does|will|can) (?:it|this) (?:work|handle|cope) (?:on|with|for)|is there (?:a|any) limit"
    r"|(?:save|download|export|send) (?:the|my|this) (?:photo|picture|image|result)"
    r"|how many (?:steps|edits|changes|times|undos?)|how (?:far|much) (?:back|can i)"
    r"|difference (?:of|between)|explain (?:me|to me|how|what)"
    # "can i undo a reset?", "can I go back to the original at any point?", "the original photo is saved or you change it?"
    r"|(?:can|could) i (?:undo|redo) (?:a|an|the) (?:reset|undo|redo)"
    r"|(?:can|could) i (?:always |still )?(?:go back|get back|return|revert) to (?:the|my) original"
    r"|original (?:photo|picture|image) (?:is |gets |will be |be |stays )?(?:saved|kept|stored|overwritten|changed|lost)"
    r"|(?:change|overwrite|keep|lose|delete|replace) (?:the|my) original (?:file|photo|picture|image)|make a copy"
    # "if I asked for two hair colours at once, what would you do?", "what would happen if I asked for more smile"
    r"|what (?:would|will) happen if (?:i|you|we)\b|what (?:would|will) you do\b|what does (?:it|this|that) do\b"
    r"|if i (?:ask|asked) (?:for|you)\b.*\bwhat (?:would|will|do|does|happens)"
)
# "is possible that she smiles?", "i ask myself how he looks without hair"
ASKED_AS_QUESTION = (
    r"is (?:it )?possible (?:to|that)|why (?:you )?(?:don'?t|do not)"
    r"|i(?:'ve| have)? (?:always )?(?:wonder|wondered|ask myself|asked myself) (?:how|what|if|whether)"
)
# a verb that asks for what follows it ("so let's make her smile", "so straighten it out")
ASKING = (
    r"make|give|add|put|let'?s|can you|could you|would you|please|i want|i'd like|turn|straighten|show|try|must|should|has to|needs? to"
)
SEPARATORS = r",|;|\band\b|\bthen\b|\balso\b|\bplus\b|&|\bbut\b|\bas well as\b|\bwhile\b|\bafter that\b|\. "


@dataclass
class AttributeChange:
    attribute: str
    strength: float  # the new absolute value (0 = remove)
    # "that's too slim", "I want the angry one back": the reason for an undo asked with it, not a request of its own
    complaint: bool = field(default=False, compare=False)


@dataclass
class Intent:
    action: str  # edit, undo, redo, reset, none, clarify
    changes: list[AttributeChange] = field(default_factory=list)
    undo_steps: int = 0  # for "undo that and add X": undo first
    steps: int = 1
    note: str = ""


@dataclass(frozen=True)
class _Phrase:
    text: str
    attribute: str
    polarity: int  # +1 or -1
    removal: bool  # the phrase itself says "no X"/"remove X"
    comparative: bool


SLANG = {
    "moar": "more",
    "tophat": "top hat",
    "plz": "please",
    "pls": "please",
    "plss": "please",
    "u": "you",
    "rly": "really",
    "wats": "what's",
    "wat": "what",
    "rlly": "really",
    "ur": "your",
    "sum": "some",
    "giv": "give",
    "mak": "make",
    "abit": "a bit",
    "lil": "little",
    "gimme": "give me",
    "wanna": "want to",
    "gonna": "going to",
    "tho": "though",
    "bc": "because",
    "hr": "her",
    "hir": "her",
    "hes": "he's",
    "shes": "she's",
    "eys": "eyes",
    "eyez": "eyes",
    "eyse": "eyes",
    "mor": "more",
    "lil'": "little",
    "hm": "hmm",
    "rn": "now",
    "thnx": "thanks",
    "ty": "thanks",
    "smth": "something",
    "sth": "something",
    "w/": "with",
    "w/o": "without",
    "alot": "a lot",
    "abt": "about",
    "r": "are",
    "pic": "photo",
}


# only where "more X" reads better as the comparative ("more short" and "more small" already ask for more of the last edit)
_COMPARATIVES = {
    "long": "longer",
    "short": "shorter",
    "thin": "thinner",
    "slim": "slimmer",
    "old": "older",
    "young": "younger",
    "big": "bigger",
}


_TENS = "ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = {w: n for n, w in enumerate("one two three four five six seven eight nine".split(), 1)}


def _percent_words(m: re.Match) -> str:
    """ "twenty percent" -> "20%", "thirty-five per cent" -> "35%"."""
    return f"{(_TENS.split('|').index(m.group(1)) + 1) * 10 + _UNITS.get(m.group(2) or '', 0)}%"


def _a_few(words: str) -> bool:
    """Whether a phrase of years says a few or a couple, however spelt ("knock off a cuple years")."""
    return any(difflib.get_close_matches(w, ["couple", "few"], n=1, cutoff=0.75) for w in re.findall(r"[a-z]+", words))


def _age_step(words: str, *, older: bool, few: bool) -> str:
    """The step of age a phrase of years asks for: a small one for a few or a couple, a large one for decades."""
    size = "a little " if few else "much " if re.search(r"\b(?:twenty|thirty|forty|fifty|[2-9]\d|two decades|decades)\b", words) else ""
    return size + ("more aged" if older else "less old")


def _normalise(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = re.sub(r"[!?]+(?=\s*\S)", ". ", t)  # a question or exclamation ends its sentence (and its strength words)
    t = re.sub(r"[!?\"()\[\]{}*_~`]+", " ", t)
    t = re.sub(r"\.(?!\d)", ". ", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = " ".join(SLANG.get(w, w) for w in t.split(" "))
    # "lipstick, but not much, only a touch", "makeup, but not strong, only little" ("not so much sad" is less sad)
    t = re.sub(r"\bnot (?:too |that |very )?(?:much|strong)\b(?= *[,.;]|$)", "slightly", t)
    t = re.sub(r"(?:^|(?<=[,.;] )|(?<=\band )|(?<=\bwith ))(touch|hint|bit|trace) of\b", r"a \1 of", t)  # terse "touch of lipstick"
    t = re.sub(r"\s\+\s", " and ", t)  # "red hair + freckles"
    t = re.sub(r"\btake of (?=her |his |their |the |them\b|it\b)", "take off ", t)  # "take of her earings"
    t = re.sub(r"\bvery much (?=[a-z])", "very ", t)  # learners' "very much blond"
    t = re.sub(r"(^|[.,;] )little (less|more)\b", r"\1a little \2", t)  # learners' "little less afraid"
    t = re.sub(r"\bagain do (it|that|this)\b", r"do \1 again", t)  # learners' "again do it": a redo
    # learners' "her hair make curly and long"
    t = re.sub(
        r"\b(?:the |her |his )?hair (?:make|do|be) ((?:curly|wavy|straight|long|short)(?: and (?:curly|wavy|straight|long|short))?)\b",
        lambda m: "make " + " and ".join(w + " hair" for w in m.group(1).split(" and ")),
        t,
    )
    # learners' "twenty years less": a step younger
    t = re.sub(
        r"\b(twenty|thirty|[2-9]\d|ten|10|a few|few|some|a couple of) (?:years|yrs) less\b",
        lambda m: _age_step(m.group(1), older=False, few=_a_few(m.group(1))),
        t,
    )
    t = re.sub(r"\bred ?hea?d(?:ed)?\b", "red hair", t)  # "as a redhead", "redhed"
    t = re.sub(r"\bsun ?glasses\b", "sunglasses", t)  # learners' "sun glasses"
    t = re.sub(r"\b(?:the |some |his |her )?hair on (?:the|his|her) head\b", "a full head of hair", t)  # "with the hair on the head"
    # learners' "return how it was before the big eyes": an undo of that edit
    t = re.sub(r"\b(?:return|go back|back)(?: to)? (?:how|as|the way) (?:it|she|he|they) (?:was|were)(?: before)?\b", "undo", t)
    # learners' "with 20 years more", "some years, a few": years as steps
    t = re.sub(
        r"\b(?:with )?(\d+|ten|twenty|thirty|a few|few|some|a couple of|a couple) (?:years|yrs) more\b(?! (?:young|old|younger|older)\b)",
        lambda m: _age_step(m.group(1), older=True, few=_a_few(m.group(1))),
        t,
    )
    t = re.sub(r"\b(take|took) away (some|a few|a couple of) years(?:,? a few)?\b", "take off a few years", t)
    t = re.sub(r"\b(" + _COLOUR_NAMES + r") (?:the|her|his) hair\b", r"\1 hair", t)  # learners' "and brown the hair also"
    t = re.sub(r"\b(?:took|takes|taken|taking) (off|away)\b", r"take \1", t)  # "if he took off his glasses"
    t = re.sub(r"\b(?:had |has )?never (?:gone|went|become|been|got|gotten|grown|going) bald\b", "with a full head of hair", t)
    t = re.sub(r"\b(?:it|they) (?:were|was|is|be) ((?:very |really |much |a bit |a little )?)(long|short)\b", r"\1\2 hair", t)
    t = re.sub(r"(?:^|(?<=, )|(?<=\band ))(long|short)(?=\s*(?:,|$|\band\b))", r"\1 hair", t)  # "blond, long, bangs"
    t = re.sub(r"\bmore or less\b", "roughly", t)  # "that's more or less his father at forty" asks for no less
    t = re.sub(r"\bin place of\b", "instead of", t)
    t = re.sub(r"\bin place\b", "instead", t)  # learners' "surprised in place"
    t = re.sub(r"\bnever without\b", "always with", t)  # "some earrings, she's never without them"
    t = re.sub(r"(?:'s| is| are) not working\b", " is wrong", t)  # "the purple's not working with the lipstick": no removal
    t = re.sub(r"\b(?:less|more) (?:tired|sleepy|exhausted|washed out|worn out|bored)\b", "rested", t)  # "so she looks less tired"
    # "if he shaved his beard off", "if she didn't wear earrings": the thing taken away
    t = re.sub(r"\bshaved? (?:off )?(?:his|her|their|the) (beard|mustache|moustache|goatee|stubble)(?: off)?\b", r"remove the \1", t)
    t = re.sub(r"\b(?:didn't|did not|doesn't|does not|wouldn't|would not) (?:wear|have) (?:any |her |his |their )?", "had no ", t)
    # "a bit more weight in the face": a fuller face
    t = re.sub(r"\bmore weight(?: (?:in|on) (?:the|her|his|their) (?:face|cheeks))?\b", "heavier", t)
    # "better the red", "I prefer brown": the new one of what was there
    t = re.sub(r"\b(?:better|rather|(?:i|i'd|i would) prefer) (?:the |a |an )?(" + _COLOUR_NAMES + r")\b(?! than)", r"\1 instead", t)
    # learners' "make more big the eyes" (a comparative before the thing it is said of)
    t = re.sub(
        r"\b(make|do|put) (more big|bigger|more small|smaller|longer|more long|shorter|more short|fuller|thinner|more thin) "
        r"(?:the |her |his |their )?(eyes|face|hair)\b",
        lambda m: f"{m.group(1)} {_COMPARATIVES.get(m.group(2).removeprefix('more '), m.group(2))} {m.group(3)}",
        t,
    )
    t = re.sub(r"\banother (?:ten years|10 years|decade|ten|10|20|twenty years|20 years)(?: or so)? off\b", "less aged", t)
    t = re.sub(
        r"\b(make|made|turn|get|keep|want|have) (it|them|the hair|her hair|his hair) straight\b(?! away| hair)", r"\1 \2 straight hair", t
    )
    t = _amount_after(t)
    t = re.sub(r"\b(hair|eyes|face|skin|lips|cheeks|mouth) of (?:him|her|them|his|hers)\b", r"\1", t)  # learners' "the eyes of him"
    t = re.sub(r"\bmouth (?:hanging|gaping|falling) open\b", "mouth open", t)
    t = re.sub(
        r"\bmouth (?:be |is |was )?((?:just |only )?(?:a little |slightly |a bit |a touch |wide |very )?)(open|closed|shut)\b",
        r"\1\2 mouth",
        t,
    )
    t = re.sub(r"\b(?:close|shut) (?:his|her|their|the) eyes?\b", "closed eyes", t)  # "and close his eye"
    t = re.sub(r"\bshaved? (?:his|her|their|the) (?:head|haed|hed)\b", "shaved head", t)  # "if he shaved his head too"
    # learners' skin "more dark from the sun": a tan
    t = re.sub(r"\bskin (?:make |be |more |a bit |a little |much )*(?:dark|darker|brown|browner)(?: from the sun)?\b", "darker skin", t)
    # a colour put on the lips or the cheeks: "put her red colour on lips", "pink colour for cheeks"
    t = re.sub(r"\b(?:red|pink|colou?r|blush)(?: colou?r)? (?:in|on|to|for) (?:the |her |his |their )?cheeks\b", "rosy cheeks", t)
    t = re.sub(r"\b(?:red|pink|colou?r)(?: colou?r)? (?:on|to|for) (?:the |her |his |their )?lips\b", "lipstick", t)
    t = re.sub(r"\bbalder\b", "more bald", t)
    t = re.sub(r"\b(man|girl|boy)lier\b", r"more \1ly", t)  # "manlier"
    t = re.sub(r"\b(?:kind|sort) of (thing|look|vibe|style)\b", r"\1", t)  # "a chef's hat kind of thing" is not "kind of" a hat
    t = re.sub(
        r"\b(?:like |as )?(?:back )?when (?:i|he|she|we|they) (?:was|were) (?:young|younger|little|a kid|a child|small)\b", "then", t
    )
    t = re.sub(r"\ba short (?:hair)?cut\b", "short hair", t)  # "let's try a short cut first"
    t = re.sub(r"\bthinking cap\b", "thinking", t)
    t = re.sub(r"\bmore of (?:a )?man\b", "more manly", t)  # learners' "make his face more of man"
    t = re.sub(r"\bbeard of (?:two|three|four|a few|few|\d) days\b|\b(?:two|three|\d)[- ]day(?:s)? beard\b", "stubble", t)
    t = re.sub(r"\bmore nice\b", "nicer", t)
    t = re.sub(r"\b(" + _COLOUR_NAMES + r"|long|short|curly|wavy|straight)-?haired\b", r"\1 hair", t)  # "silver-haired", "long-haired"
    t = re.sub(r"\b(?:5|five) ?o'?clock\b", "five o'clock", t)  # "5 oclock shadow"
    # learners' nouns of feeling: "a face of surprise", "very much surprise", "with more anger"
    t = re.sub(
        r"\b(?:(?:a |the )?(?:face|look|expression) of|(?:very )?much|very|more|a little|a bit|little|with|some|"
        r"tone down|dial (?:down|up|back)|turn (?:down|up)|soften|reduce|increase|boost) (?:the |that |his |her )?"
        r"(surprise|anger|sadness|fear|disgust|happiness)\b",
        lambda m: m.group(0)[: m.start(1) - m.start(0)] + _FEELING_OF[m.group(1)],
        t,
    )
    t = re.sub(r"\b(?:the |her |his )?cheeks (more|less|redder|rosier|pinker)\b", r"\1 rosy cheeks", t)  # "the cheeks more"
    t = re.sub(r"\b(?:put|puts|putting) on (?:some |a (?:bit|little|lot) of )?weight\b|\bgain(?:ed|s)? (?:some )?weight\b", "chubby", t)
    t = re.sub(r"^\W*no\b,?\s*(?=.*\binstead\b)", "", t)  # "no brown eyes instead": no, brown eyes instead
    t = re.sub(r"\b(look|looks|be|is) surprise\b", r"\1 surprised", t)  # learners' "better she look surprise"
    t = re.sub(r"\bthe ([a-z]+(?: [a-z]+)?) you (take away|take off|remove)\b", r"\2 the \1", t)  # "the beard you take away"
    t = re.sub(r"\b([a-z]+) no\. take (?:it |them )?(off|away)\b", r"take \2 the \1", t)  # "earrings no. take off."
    t = re.sub(r"\bwithout (?:any |his |her |their )?hair\b", "with no hair", t)  # "how he looks without hair": bald
    t = re.sub(r"\b(" + _TENS + r")(?:[- ](one|two|three|four|five|six|seven|eight|nine))? ?(?:percent|per cent)\b", _percent_words, t)
    # "if her eyes were closed", "if his hair were much longer": a wish said as a condition names the look it wants
    t = re.sub(r"\bif (?:(?:his|her|my|their|the) )?(eyes|mouth) were (closed|open|shut)\b", r"if \2 \1", t)
    t = re.sub(
        r"\bhair (?:were|was|is|be|looked|got) ((?:a (?:bit|little|lot) |much |way |even )?(?:longer|shorter|long|short))\b", r"\1 hair", t
    )
    t = re.sub(r"\bmake(?:s)? up for\b", "compensate for", t)  # "a beard to make up for it" is not makeup
    t = re.sub(r"\b(?:the|that|this) (?:\w+ )?version\b", "that version", t)  # "the younger version" names a version
    # "hair more long", "face more thin" (a comparative as some learners build it) -> "longer", "thinner"
    t = re.sub(r"\bmore (" + "|".join(_COMPARATIVES) + r")\b", lambda m: _COMPARATIVES[m.group(1)], t)
    # years said with older or younger are steps, either way ("ten years older than that" after a younger edit)
    t = re.sub(
        r"\b(?:a )?(?:couple|few) (?:of )?(?:more )?(?:years|yrs) (older|younger)\b", lambda m: "a little " + _AGE_STEP[m.group(1)], t
    )
    t = re.sub(r"\b(?:ten|10|a decade|a dozen) (?:more )?(?:years|yrs) (older|younger)\b", lambda m: _AGE_STEP[m.group(1)], t)
    decades = r"(?:twenty|thirty|forty|fifty|20|30|40|50|two decades|a few decades|several decades|decades)"
    t = re.sub(r"\b" + decades + r" (?:more )?(?:years |yrs )?(older|younger)\b", lambda m: "much " + _AGE_STEP[m.group(1)], t)
    # learners' "more old, twenty years", "older by ten years"
    t = re.sub(
        r"\b(older|younger|more old|more young),? (?:by )?(?:about |around )?(" + decades + r"|ten|10|a decade|a few|a couple of|a couple)"
        r" (?:years|yrs)\b",
        lambda m: (
            ("much " if re.fullmatch(decades, m.group(2)) else "a little " if _a_few(m.group(2)) else "")
            + _AGE_STEP["older" if "old" in m.group(1) else "younger"]
        ),
        t,
    )
    # "another ten years on top of that", "another 10": a step of age the way it goes; "another decade off": younger
    t = re.sub(
        r"\banother (?:ten years|10 years|decade|ten|10)(?: or so)?(?: on(?: top of (?:that|it|this))?)?(?=$|[,.;]| please| pls| then)",
        "more",
        t,
    )
    t = re.sub(r"\bhair ((?:a (?:bit|little|lot) |much |even )?)more short\b", r"hair \1shorter", t)  # "the hair more short"
    # years taken off or put on: "knock off ten years", "take a decade off him", "add a few years"
    t = re.sub(
        r"\b(?:knock|take|shave|chop|cut|shed)(?:s|ing)? (?:off )?(?:(?:a|an|about|around|some|like|maybe|\w+) ){0,2}"
        r"(?:few |couple (?:of )?)?(?:more )?(?:years?|yrs|decades?)(?: back)?(?: (?:off|of))?"
        r"(?: (?:him|her|them|his age|her age|their age))?(?: off)?(?: or so)?\b",
        # a step back (younger when there is no age edit): "a couple of years" a small one, "a couple more years" a step
        lambda m: _age_step(m.group(0), older=False, few=_a_few(m.group(0)) and not re.search(r"\bmore\b", m.group(0))),
        t,
    )
    t = re.sub(
        r"\b(?:add|put on|pile on)(?:s|ing)? (?:(?:a|an|about|around|some|\w+) )?(?:few |couple (?:of )?)?(?:years?|yrs|decades?)\b"
        r"(?: back)?(?: (?:to|on) (?:him|her|them))?",
        # a step on (older when there is no age edit): "add a couple of years back" after a younger edit
        lambda m: _age_step(m.group(0), older=True, few=_a_few(m.group(0))),
        t,
    )
    # "a couple more years", "a few more years on top of that", "ten more years": a step older
    t = re.sub(
        r"\b(?:(?:a )?(?:few|couple(?: of)?)|\w+) more (?:years?|yrs|decades?)(?! of\b| older\b| younger\b)"
        r"(?: on(?: (?:him|her|them))?)?\b",
        "older",
        t,
    )
    # "lips a bit stronger", "her lips darker": the lipstick (what colours the lips here)
    t = re.sub(
        r"\b(?:the |her |his |their )?lips ((?:(?:a|little|bit|lot|tad|touch|slightly|much|way|even|tiny|more|were|are|be|look) )*)"
        r"(stronger|redder|darker|bolder|brighter|deeper|weaker|lighter|paler|softer|subtler|fainter)\b",
        lambda m: f"{m.group(1)}{m.group(2)} lipstick",
        t,
    )
    t = rewrite_from_to(expand_lists(t))
    # "her eyes green", "hair to blonde" -> "green eyes", "blonde hair"
    colours = r"black|blond|blonde|brown|red|ginger|auburn|gray|grey|white|silver|blue|pink|purple|violet|green|hazel|golden|platinum"
    # "her eyes a little bigger", "make his face fuller" -> "a little bigger eyes", "fuller face"
    t = re.sub(
        r"\b(eyes|face)\b ((?:(?:a|little|bit|lot|tad|touch|slightly|much|way|even|tiny|be|look|make|more|were|was|are|is"
        r"|of (?:him|her|them)) )*)"
        r"(bigger|larger|wider|smaller|narrower|fuller|rounder|chubbier|plumper|slimmer|thinner|big|small|full|round|slim|thin)\b",
        lambda m: f"{m.group(2)}{m.group(3)} {m.group(1)}",
        t,
    )
    t = re.sub(r"\bglasses (?:of|for|against) (?:the )?sun\b", "sunglasses", t)
    t = re.sub(r"\bhair ((?:very |really |a bit |quite )?)(long|short|straight)\b", r"\1\2 hair", t)  # "put her the hair long and wavy"
    # "the hair I want curly, and of color brown", "the hair, you can make of blue colour?": the colour is the hair's
    t = ". ".join(
        re.sub(
            r"\b(?:of |in )?(?:the )?colou?r,? (?:of )?(" + colours + r")\b|\b(?:of |in )?(" + colours + r") colou?r\b",
            lambda m: f"{m.group(1) or m.group(2)} hair",
            s,
        )  # fmt: skip
        if re.search(r"\bhair\b", s) and not re.search(r"\beyes?\b", s)
        else s
        for s in t.split(". ")
    )
    t = re.sub(r"\b(?:of|in) (" + colours + r") colou?r\b", r"\1", t)  # "make it of brown colour"
    # "if he'd gone gray", "if his hair went silver": hair that turns a colour (not eyes, cheeks or a face going red)
    t = ". ".join(
        re.sub(r"\b(?:gone|went|go|goes|going|turned|turning) (" + colours + r")\b(?! (?:hair|eyes))", r"\1 hair", s)
        if not re.search(r"\b(?:eyes?|cheeks|face|lips|skin)\b", s)
        else s
        for s in t.split(". ")
    )
    # "her eye colour to green", "the eyes were a little less blue" -> "green eyes", "a little less blue eyes"
    return re.sub(
        r"\b(hair|eyes?)\b ((?:(?:to|into|a|an|color|colour|more|less|little|bit"
        r"|be|were|was|look|turn|should|in|some|make|do|paint|dye|went|gone|go|turned"
        r"|of (?:him|her|them)) )*)(" + colours + r")\b",
        lambda m: f"{m.group(2)}{m.group(3)} {'eyes' if m.group(1).startswith('eye') else m.group(1)}",
        t,
    )


_AMOUNT_NOUNS = r"(?:loads|lots|tons|heaps|plenty|(?:quite )?a lot) of (?:them|em|'em|those|it)"
_AMOUNT_HINT = (
    r"(?:just |only )?(?:a hint|a touch|a little|a bit|a tad|a trace|slightly|subtle|subtly|a few|few|touch|hint|tad)"
    r"(?: of (?:it|them|em))?"
)


_FEELING_OF = {
    "surprise": "surprised", "anger": "angry", "sadness": "sad", "fear": "fearful", "disgust": "disgusted", "happiness": "happy"
}  # fmt: skip
_AGE_STEP = {"older": "more aged", "younger": "less aged"}  # not "more old", which the second pass reads as "older"
_COLOURED_THINGS = (
    "lipstick|lips|lip|cheeks|blush|eyeshadow|makeup|make-up|dress|shirt|jacket|coat|hat|cap|glasses|sunglasses|earrings|nails|"
    "background|wall|sky|scarf|sweater|jumper"
)
_HAIR_SHAPES = frozenset({"curly_hair", "long_hair", "bangs"})
_COLOUR_NAMES = "black|blond|blonde|brown|red|ginger|auburn|gray|grey|white|silver|blue|pink|purple|violet|green|hazel|golden|platinum"
_SIZE_WORDS = (
    r"(?:big|huge|massive|deep|dark|strong|bold|thick|long|wide|proper|small|little|subtle|light|faint|soft|gentle|tiny|thin|slight)"
)


_BODY_PARTS = frozenset("hair eyes face skin lips cheeks mouth".split())
_SMALLER = frozenset("little small short thin weak light".split())
_LEARNERS_AMOUNT_AFTER = re.compile(
    r"(^|[,.;] |\band |\balso |\bnow |\bthen )(?:the |his |her |their )?(?!(?:please|pls|now|then|just|also|so|and|it|that)\b)([a-z]+), "
    r"(?:make |do |put |please |and )?(?:it |them |him |her )?((?:a bit |a little |much |a lot |still |even )?)(more|less|stronger|weaker)"
    r"(?: (little|small|short|thin|weak|light|thick|strong|big|long|dark|intense|bold|heavy))?(?= *$|[,.;]| please| pls)"
)


def _amount_before(m: re.Match) -> str:
    """ "the smile, more little" -> "less smile"; "the hair, more long" -> "longer hair" (a body part keeps its word)."""
    lead, thing, amount, word, adjective = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
    if thing in _BODY_PARTS and adjective:
        return f"{lead}{amount}{_COMPARATIVES.get(adjective, 'more ' + adjective)} {thing}"
    less = word in ("less", "weaker") or (word == "more" and adjective in _SMALLER)
    return f"{lead}{amount}{'less' if less else 'more'} {thing}"


def _amount_after(t: str) -> str:
    """Amounts and removals said after the thing: "freckles, loads of them" -> "loads of freckles"; "freckles, just a
    hint" -> "a little freckles"; "glasses off", "the mustache remove" -> "remove the glasses", "remove the mustache"."""
    t = re.sub(r"\b([a-z]+), " + _AMOUNT_NOUNS + r"\b", r"lots of \1", t)
    # "could you add makeup. really dramatic, ...", "oh, and older, obviously. very old."
    t = re.sub(
        r"\b(add|give|with) (?:a |an |some )?([a-z]+)\. (really|very|super) (dramatic|strong|bold|thick|heavy|intense)\b",
        r"\1 \3 \4 \2.",
        t,
    )
    t = re.sub(r"\b(older|younger)((?:,? [a-z]+)?)\. (?:very|really|super) (?:old|young)\b", r"much \1\2.", t)
    t = re.sub(
        r"\b(him|her|them|me|look|looks|be) ([a-z]+), (?:a lot|very much|really much|much|strongly|very strong)(?=$|[,.;]| please| pls)",
        r"\1 very \2",
        t,
    )  # "happy, a lot"
    t = re.sub(_LEARNERS_AMOUNT_AFTER, _amount_before, t)  # learners' "the smile, more little", "the beard, make less"
    # "a smile, a really big one", "a tan, a deep one", "freckles, just subtle ones" -> "a really big smile", ...
    t = re.sub(r"(?<!nothing )(?<!not )(?<!too )(?<!so )\b((?:(?:blue|green|brown|hazel|grey|gray) )?[a-z]+)(?: too| as well)?"
               r"(?:,|\.) (?:just |only )?(?:an? )?"
               r"((?:(?:really|very|super|quite|nice|proper|properly|truly|extra|nice and) )*)"
               r"(big|huge|massive|deep|dark|strong|bold|thick|long|wide|proper|small|little|subtle|light|faint|soft|gentle|"
               r"tiny|thin|slight) ones?\b", r"\2\3 \1", t)  # fmt: skip
    # "hair green, really green" -> "really green hair"; "blue, very blue" -> "very blue"
    t = re.sub(r"\b(hair|eyes) ([a-z]+), (really|very|super|properly|totally|seriously) \2\b", r"\3 \2 \1", t)
    t = re.sub(r"\b([a-z]+), (really|very|super|properly|totally|seriously) \1\b", r"\2 \1", t)
    # "longer hair, a lot longer", "long purple hair, really long" -> "a lot longer hair", "really long purple hair"
    t = re.sub(
        r"\b([a-z]+) ((?:[a-z]+ ){0,2}?(?:hair|eyes|beard|mustache|smile|face)), (really|very|super|a lot|much|way) \1\b", r"\3 \1 \2", t
    )
    # "make me sad instead. very sad, actually", "switch her to blue eyes. very blue, icy even"
    t = re.sub(
        r"\b([a-z]+)( eyes| hair)?((?: instead| too| as well)?)\. (?:like,? |i mean,? )?"
        r"(really|very|super|properly|totally|seriously) \1\b",
        r"\4 \1\2\3.",
        t,
    )
    # "freckles, just a hint" -> "a little freckles"; "gray hair, a touch" -> "a little gray hair" (its adjective too)
    t = re.sub(
        r"\b((?:(?:" + _COLOUR_NAMES + r"|" + _SIZE_WORDS + r"|bigger|smaller|thinner|fuller|rosy|short|shorter|longer|curly|wavy|straight|"
        r"open|closed) )?[a-z]+(?:-[a-z]+)?), " + _AMOUNT_HINT + r"(?=$|[,.;]| and | please| pls)",
        r"a little \1",
        t,
    )

    def removal(m: re.Match) -> str:
        if set(m.group(2).split()) & _NOT_A_THING:  # "turn it off", "she looks off", "take it away"
            return m.group(0)
        return f"{m.group(1)}remove the {m.group(2)}"

    t = re.sub(r"\b(take|get) (off|away) from (?:him|her|them|me)\b", r"\1 \2", t)
    asked = r"(?:is (?:it )?possible|can you|could you) (?:to )?(?:take|get) (?:it )?off\b"
    t = re.sub(r"\b((?:the )?[a-z]+)(?: on (?:him|her|them|me))?, " + asked, r"remove \1", t)
    t = re.sub(
        r"(^|[,.;] |\band |\balso |\bnow )(?:the |his |her |their )?(?!(?:please|pls|now|then|just|also|so|and)\b)([a-z]+),? "
        r"(?:also |too )?(?:take|get) (?:off|away|out)\b",
        r"\1remove the \2",
        t,
    )
    return re.sub(
        r"(^|[,.;] |\band |\balso |\bnow |\bplus |\bthen )(?:the |his |her |their )?([a-z]+(?: [a-z]+)?),? "
        r"(?:remove|removed|off|away|gone)\b"
        r"(?: (?:also|too|as well))?(?=$|[,.;]| please| pls| and )",
        removal,
        t,
    )


_NOT_A_THING = set(
    "it that this them those these he she they i you we him her me us looks look looking turn turned switch show take "
    "put get go back sign log set cut kick run go way far right".split()
)


def _phrase_table(vocab: Vocabulary) -> tuple[re.Pattern, dict[str, _Phrase], set[str]]:
    """The synonym regex (longest phrases first), phrase lookup, and the words typos are corrected to."""
    phrases: list[_Phrase] = []
    seen: set[str] = set()
    for attr in vocab.attributes.values():
        for pol, syns in ((1, attr.positive_synonyms), (-1, attr.negative_synonyms)):
            for s in list(syns) + ([attr.id.replace("_", " ")] if pol == 1 else []):
                key = _normalise(s)
                if not key or key in seen:
                    continue
                seen.add(key)
                removal = pol < 0 and bool(re.match(r"(no|remove|without|not|take off|stop)\b", key))
                comparative = (bool(re.search(r"(er|ier)\b", key.split()[-1])) and key not in ("ginger", "lighter")) or key.startswith(
                    "more "
                )  # "more feminine" on a feminine edit is a step
                phrases.append(_Phrase(key, attr.id, pol, removal, comparative))
    phrases.sort(key=lambda p: -len(p.text))
    pattern = re.compile(r"\b(" + "|".join(re.escape(p.text) for p in phrases) + r")\b")
    lookup = {p.text: p for p in phrases}
    words = {w for p in phrases for w in p.text.split() if len(w) >= 4} | set(GRAMMAR_WORDS)
    return pattern, lookup, words


# words of the strength and relative grammar are never "corrected" into vocabulary words ("fully" is not "full")
_GRAMMAR_PROTECTED = set(re.findall(r"[a-z]+", " ".join((ABS_FULL, ABS_STRONG, ABS_SLIGHT, REL_MORE, REL_LESS, REL_SLIGHT, REL_MUCH))))


# common short words that a missing letter would turn into another word ("bad" is not "bald"); _COMMON holds more
_KEEP_AS_WRITTEN = set(
    "all and any app are aww bad big bit boy but can cut dad day did ear end eye fan far few fix for fun "
    "get got guy had has her hey him his hmm how huh ill its kid let lip lol lot man may men mom mum new "
    "not now off old one our out own per pic put run say see she six son sun ten the too top try two ugh "
    "was way who why wow yay yep yes you does even ever here into know many most nope once only onto "
    "oops ours over same seen show such sure tell told wear went were will while".split()
)
_COMMON = set(
    "curious serious famous various haircut these there their where which would could should about after again other small smaller hello "
    "thanks thank maybe please great really older sweet looks little wants "
    "that this then than them they what when your make more less look like give some also just want with from have she's he's it's "
    "lets also made love good nice cool fine wait back much very well more done okay lighten darken complexion whiten brighten "
    "bleach person people across wearing wears amazing stunning gorgeous fabulous fantastic incredible awesome surprise "
    "right left seeing seen many money mean mine save saved saving quality download resolution complete total totals started "
    "starting real reality differ different thing things think thinks beach each every disguise disguised star".split()
)


def _transposed(a: str, b: str) -> bool:
    """b is a with two neighbouring letters swapped ("smiel" / "smile")."""
    if len(a) != len(b) or sorted(a) != sorted(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


class _Spelling:
    """What a misspelt word may be: the vocabulary's and the grammar's words, indexed by length, with the fixes
    found so far (one per parser, so its memory goes with the parser)."""

    def __init__(self, words: set[str]):
        self.words = words
        self.by_length: dict[int, list[str]] = {}
        for w in sorted(words):
            self.by_length.setdefault(len(w), []).append(w)
        self._fixes: dict[str, str | None] = {}

    def correction(self, core: str) -> str | None:
        """The word a misspelt token stands for, or None."""
        if core in self._fixes:
            return self._fixes[core]
        # only words of about the same length can be that close (ratio 2M/(a+b) >= 0.84), and a typo keeps the first
        # letter or the last two ("mustash", "berd", "bload"): the pool difflib compares is a tenth of the words
        pool = [w for n in range(len(core) - 2, len(core) + 3) for w in self.by_length.get(n, ()) if w[0] == core[0] or w[-2:] == core[-2:]]
        swapped = [w for w in pool if _transposed(core, w)]
        near = swapped[:1] or (
            difflib.get_close_matches(core, pool, n=1, cutoff=0.84)
            if len(core) >= 5
            else [w for w in difflib.get_close_matches(core, pool, n=1, cutoff=0.88) if len(w) == 5 and w.startswith(core[:3])]
        )
        if not near and len(core) >= 5:  # one vowel for another, the first and last letters kept ("beerd")
            vowels = [w for w in pool if len(w) == len(core) and w[0] == core[0] and w[-1] == core[-1] and _one_vowel_apart(core, w)]
            near = vowels if len(vowels) == 1 else []
        if not near and len(core) >= 6:  # a long word misspelt by its sound keeps its first four letters ("mustash")
            near = difflib.get_close_matches(core, [w for w in pool if w[:4] == core[:4]], n=1, cutoff=0.78)
        if len(self._fixes) > 20000:
            self._fixes.clear()
        self._fixes[core] = near[0] if near else None
        return self._fixes[core]


# words of the grammar (not of the vocabulary) that people misspell and that change what a message asks
_GRAMMAR_WORDS = frozenset(
    "instead proper properly change different something years decade again still completely totally really start over "
    "difference couple possible down head back twice thats".split()
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SAME_WORD = {"gray": "grey", "color": "colour", "colors": "colours"}  # spellings of one word
_SHORT_WORDS = set(
    "make less more still open longer shorter little bigger smaller darker lighter older younger again please hair eyes "
    "face lips smile beard bald bangs curly wavy straight glasses hat some with".split()
)


def _one_vowel_apart(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with one vowel typed as the vowel beside it ("beerd" for "beard"; "board" is a word of its
    own, not a typo of "beard")."""
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diff) != 1:
        return False
    i = diff[0]
    return a[i] in "aeiouy" and b[i] in "aeiouy" and a[i] in (a[i - 1 : i] + a[i + 1 : i + 2])


def _missing_letter(core: str, targets: set[str] | frozenset[str]) -> str | None:
    """The one word of ``targets`` that ``core`` is with a letter left out ("mke" make, "les" less, "longr" longer, "opn"
    open), a letter doubled ("huuge") or with a final z for s ("bangz"); None when there is none or more than one."""
    found = {w for i in range(1, len(core) + 1) for c in _LETTERS if (w := core[:i] + c + core[i:]) in targets}
    found |= {  # "huuge": the amount words too
        w for i in range(1, len(core)) if core[i] == core[i - 1] and ((w := core[:i] + core[i + 1 :]) in targets or w in _GRAMMAR_PROTECTED)
    }
    if core.endswith("z") and core[:-1] + "s" in targets:
        found.add(core[:-1] + "s")
    found = {_SAME_WORD.get(w, w) for w in found}  # "gry": grey or gray, one word
    preferred = found & _SHORT_WORDS  # "les": less before lens
    return next(iter(found)) if len(found) == 1 else next(iter(preferred)) if len(preferred) == 1 else None


def _fix_typos(
    text: str, spelling: _Spelling, known: set[str] | frozenset[str] = frozenset(), targets: set[str] | frozenset[str] = frozenset()
) -> str:
    """Misspelt words corrected: first a letter left out (``targets``: the words that can be meant; ``known`` and
    common short words are never "corrected"), then near spellings of the vocabulary's and the grammar's words."""
    out = []
    for tok in text.split(" "):
        core = tok.strip(",.;:")
        known_word = core in spelling.words or core in _COMMON or core in _GRAMMAR_PROTECTED or core in PHOTO_WORDS
        if core.isalpha() and not known_word:
            near = None
            if (
                3 <= len(core) <= 6
                and core not in _SHORT_WORDS
                and core not in _NOT_A_THING
                and core not in _KEEP_AS_WRITTEN
                and core not in known
            ):
                near = _missing_letter(core, targets)
            if near is None and core.endswith("ier") and core[:-3] + "y" in known:  # "rosier cheeks": more rosy cheeks
                near = "more " + core[:-3] + "y"
            if near is None and len(core) == 3 and core not in known:  # "hta", "sda": two letters swapped
                swapped = [
                    w for w in (core[1] + core[0] + core[2], core[0] + core[2] + core[1]) if w in targets or w in known or w in _COMMON
                ]
                near = swapped[0] if len(swapped) == 1 else None
            if near is None and core.startswith("no") and core[2:] in known and len(core) >= 6:  # "nofreckles"
                near = "no " + core[2:]
            if near is None and len(core) >= 7 and core not in known:  # "pinkhair", "greeneyes": a space left out
                halves = [f"{core[:i]} {core[i:]}" for i in range(3, len(core) - 2) if core[:i] in known and core[i:] in known]
                near = halves[0] if len(halves) == 1 else None
            if near is None and len(core) >= 4:
                near = spelling.correction(core)
            if near:
                tok = tok.replace(core, near)
        out.append(tok)
    return " ".join(out)


def content_of(text: str) -> str:
    """The message without its request scaffolding ("could you make her look like ..."), for embedding."""
    t = re.sub(SCAFFOLDING, "", text.strip())
    return t.strip(" ,.") or text


def _clause_at(text: str, pos: int) -> str:
    """The clause (between separators) around a position: where a word's strength words are."""
    lo = max([m.end() for m in re.finditer(SEPARATORS, text) if m.end() <= pos] + [0])
    hi = min([m.start() for m in re.finditer(SEPARATORS, text) if m.start() >= pos] + [len(text)])
    return text[lo:hi]


def _has(pattern: str, text: str) -> bool:
    return re.search(r"(?<![\w'])(?:" + pattern + r")(?![\w'])", text) is not None


def _count(text: str) -> int:
    m = re.search(
        r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:steps?|edits?|times?|changes?|turns?|moves?|levels?)\b"
        r"|\bx ?(\d)\b|\b(\d) ?x\b"
        r"|\b(?:last|past|previous|all|those) (\d+|two|three|four|five|six|seven|eight|nine|ten)\b"
        r"|\b(\d+|two|three|four|five|six|seven|eight|nine|ten) (?:last|latest|previous)\b"
        r"|\b(?:undo|back|revert|reverse) (\d+|two|three|four|five|six|seven|eight|nine|ten)\b",
        text,
    )
    if m and (m.group(2) or m.group(3)):
        return int(m.group(2) or m.group(3))
    if m:
        v = m.group(1) or m.group(4) or m.group(5) or m.group(6)
        return int(v) if v.isdigit() else NUMBER_WORDS[v]
    for w, n in (("thrice", 3), ("three times", 3), ("twice", 2), ("two times", 2), ("both", 2)):
        if w in text:
            return n
    return 1


def _explicit_number(clause: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(%|percent|per cent)", clause)
    if m:
        return min(1.0, float(m.group(1)) / 100.0)
    m = re.search(r"(?:strength|level|intensity|to|at|by)?\s*\b(0?\.\d+|1\.0|1|0)\b(?!\s*(?:years?|yrs|steps?|times|x\b))", clause)
    if m and re.search(r"\d", m.group(1)) and ("." in m.group(1) or re.search(r"(strength|level|intensity)", clause)):
        return min(1.0, float(m.group(1)))
    return None


def _absolute_magnitude(clause: str) -> float:
    n = _explicit_number(clause)
    if n is not None:
        return n
    if _has(ABS_FULL, clause):
        return FULL
    if _has(ABS_SLIGHT, clause):
        return SLIGHT
    if _has(ABS_STRONG, clause):
        return STRONG
    return DEFAULT


def _relative(clause: str) -> tuple[int, float] | None:
    """(+1 more / -1 less, step) when the clause asks for a relative change."""
    # "too" only as "too much / too strong", never as "also" ("and surprised too")
    less = _has(REL_LESS, clause) or _has(
        r"not as|not so|down a notch|too (?:much|many|strong|big|dark|heavy|bright|intense|obvious|extreme)", clause
    )
    more = _has(REL_MORE, clause) or _has(r"not enough|up a notch|even", clause)
    if not (less or more):
        return None
    direction = -1 if less else 1
    slight, much = _has(REL_SLIGHT, clause), _has(REL_MUCH, _strip_too_much(clause))
    if slight and much:  # "a lot stronger, it looks a bit washed out": the amount said next to the change
        word = re.search(r"\b(?:" + (REL_LESS if less else REL_MORE) + r")\b", clause)
        if word is not None:
            near = clause[max(0, word.start() - 12) : word.end() + 12]
            slight, much = _has(REL_SLIGHT, near), _has(REL_MUCH, _strip_too_much(near))
            if slight == much:
                slight, much = True, False
    if slight:
        return direction, 0.1
    if much:
        return direction, 0.3
    return direction, 0.2


def _strip_too_much(clause: str) -> str:
    """ "too much" says the edit overshot, not how big the correction is."""
    return re.sub(r"\b(?:way )?too (?:much|many)\b", " ", clause)


ASKS_FOR = (  # words that make a clause a request, not a remark: "undo that, beard instead"; "undo and give him stubble"
    r"make|give|add|put|turn|try|want|wanna|instead|rather|can you|could you|would you|please|pls|let's|lets|go with|"
    r"more|less|bit|little|touch|much|very|slightly"
)
ACT_MIN_PROBABILITY = 0.6  # the act model turns the grammar's none or clarify into undo, redo, reset or a request
ACT_SWAP_PROBABILITY = 0.75  # ... a none into a clarify, or the other way round
ACT_THANKS_PROBABILITY = 0.85  # ... an edit into none (a thank-you that mentions an attribute)
_REPLACEABLE_KINDS = (
    {"smiling", "angry", "sad", "surprised", "disgusted", "fearful"},
    {"eyeglasses", "sunglasses", "hat", "earrings"},
    {"beard", "mustache", "goatee", "stubble"},
    *({"bald", a} for a in ("long_hair", "bangs", "curly_hair")),  # "nah. long hair instead" after bald
)
_FINAL_NOTES = {"keyboard command", "photo", "empty message", "cancelled", "delegated", "question about the tool", "that's all"}


class IntentParser:
    def __init__(
        self,
        vocab: Vocabulary | None = None,
        embedder: Callable[[str], list[tuple[str, int, float]]] | None = None,
        acts: Callable[[str], ActGuess] | None = None,
        mentions: MentionModel | None = None,
    ):
        self.vocab = vocab or default_vocabulary()
        self.embedder = embedder  # text -> [(attribute, polarity, similarity)], best first
        self.acts = acts  # message -> its most likely turn act (acts.ActModel); None: the grammar's acts alone
        self.mentions = mentions  # which attribute words ask and which tell the story (mentions.py); None: all ask
        self._pattern, self._lookup, self._words = _phrase_table(self.vocab)
        self._tokens = {w for phrase in self._lookup for w in phrase.split()}  # every word of a phrase is already right ("tan")
        # attribute -> the words of its positive and of its negative synonyms ("shorter" is a word of short hair's)
        self._side_words = {
            a: tuple(
                frozenset(w for phrase in side for w in phrase.split())
                for side in (self.vocab[a].positive_synonyms, self.vocab[a].negative_synonyms)
            )
            for a in self.vocab.ids()
        }
        self._typo_targets = frozenset(self._words | _SHORT_WORDS | _COMMON)  # what a word with a letter left out may be
        # what a misspelt word may be: the vocabulary's words, the grammar's, and its longer amount words ("tuoch")
        self._spelling = _Spelling(self._words | _GRAMMAR_WORDS | {w for w in _GRAMMAR_PROTECTED if len(w) >= 5})

    def parse(self, message: str, state: dict[str, float], last_changed: list[str] | None = None) -> Intent:
        """The grammar's reading of ``message``; with an act model, its act where the grammar's is weakest (acts.py)."""
        intent = self._grammar(message, state, last_changed)
        low = message.lower()
        if intent.action == "edit" and not intent.undo_steps and re.search(r"\b(?:thanks|thank you|thx|ty|perfect)\b", low):
            # "yes, only the freckles. thank you.", "yes, blue is better. thank you."
            restates = intent.changes and all(abs(state.get(c.attribute, 0.0) - c.strength) < 1e-9 for c in intent.changes)
            praises = (
                re.search(r"\b(?:is|looks|was) (?:better|perfect|great|good|nicer|right)\b", low) and len(message.split()) <= 8
            ) or (  # "perfect, she will be happy", "she's going to laugh so much when she sees it. thanks!"
                re.search(r"\b(?:will|'ll|going to) (?:be (?:so |very )?(?:happy|pleased|thrilled)|laugh|love|cry|smile)", low)
                and re.search(r"\b(?:thanks|thank you|perfect|great|lovely)\b", low)
                and all(c.attribute == "smiling" for c in intent.changes)
            )
            if restates or praises:
                return Intent("none", note="thanks for what is there")
        if self.acts is None or intent.note in _FINAL_NOTES or intent.action not in ("none", "clarify", "edit"):
            return intent
        # the act of what the message asks, without its sentences that only tell a story ("ha, he'll love it. maybe
        # tone it down a little" is a request, though the praise alone reads as a thank-you)
        guess = self.acts(drop_stories(message.lower().replace("’", "'"))[0])
        if intent.action in ("none", "clarify"):
            if guess.act in ("undo", "redo", "reset") and guess.probability >= ACT_MIN_PROBABILITY:
                steps = _count(_normalise(message)) if guess.act != "reset" else 1
                return Intent(guess.act, steps=steps, note=f"act model {guess.probability:.2f}")
            if guess.act == "edit" and guess.probability >= ACT_MIN_PROBABILITY:  # a wish or a question that is a request
                again = self._grammar(message, state, last_changed, as_request=True)
                if again.action == "edit":
                    return replace(again, note=f"act model {guess.probability:.2f}")
            if {intent.action, guess.act} == {"none", "clarify"} and guess.probability >= ACT_SWAP_PROBABILITY:
                return Intent(guess.act, note=f"act model {guess.probability:.2f}")
        elif (
            guess.act == "none"
            and guess.probability >= ACT_THANKS_PROBABILITY
            and not intent.undo_steps
            and not self._asks_relative(message, intent, state)
        ):
            return Intent("none", note=f"act model {guess.probability:.2f}: not a request")
        return intent

    @staticmethod
    def _asks_relative(message: str, intent: Intent, state: dict[str, float]) -> bool:
        """Whether the message asks, in so many words, for more or less of something the photo has ("the makeup is
        overpowering now, can you tone it down?"): a request, however much of the message reads as a remark."""
        if not any(c.attribute in state and c.strength != 0 for c in intent.changes):
            return False
        text = _normalise(message)
        return _relative(text) is not None and _has(r"can you|could you|would you|please|make|tone|turn|dial", text)

    def _grammar(self, message: str, state: dict[str, float], last_changed: list[str] | None = None, *, as_request: bool = False) -> Intent:
        """The grammar alone; ``as_request`` reads a question or a wish as the request it may be."""
        last_changed = [a for a in (last_changed or []) if a in state] or list(state)[-1:]
        asks_about = re.match(
            r"\s*(?:what|which|how|who|why|where|when|is|are|does|do you|can you explain|tell me)\b", message.lower()
        ) is not None and message.strip().endswith("?")
        text = _normalise(message)[:2000]
        if not text:
            return Intent("none", note="empty message")
        # typos first, then the rewrites again: "knock off ten yeras" is "younger" only once "years" is spelt right
        fixed = _fix_typos(text, self._spelling, self._tokens, self._typo_targets)
        text = _normalise(fixed) if fixed != text else text  # spelt right: the rewrites have already been made
        clauses = analyse(text, question_mark=message.strip().endswith("?"))
        if clauses.system:
            return Intent(clauses.system, steps=1, note="keyboard command")
        if clauses.photo_only:
            return Intent("none", note="photo")
        text = clauses.text
        if not text:
            return Intent("none", note="cancelled" if clauses.cancelled else "empty message")
        if re.fullmatch(
            r"\W*(?:(?:ok|okay|great|perfect|good|nice|cool),? )?(?:that'?s|thats) (?:all|it)(?: for now| thanks?| thank you)?\W*", text
        ):
            return Intent("none", note="that's all")  # "tahts all" (whatever the act model makes of the misspelt words)
        if re.fullmatch(
            r"(?:\W|ok|okay|so|just|hmm|um|uh|well|honestly|i mean|please)*(?:" + DELEGATE + r")(?:\W|please|then|i guess|lol)*", text
        ):
            return Intent("clarify", note="delegated")
        curious = (
            clauses.question
            or message.strip().endswith("?")
            or _has(r"just (?:curious|wondering|asking)|quick question|a question", text)
            or re.match(r"\W*(?:(?:hey|hi|so|ok|okay)\W+)*(?:what|whats|wats|what's|how|hwo|which|where|why)\b", text) is not None
        )
        if curious and _has(ABOUT_THE_TOOL, text):
            return Intent("none", note="question about the tool")  # "could the tool make someone look like their parent?"
        if (
            clauses.question
            and not as_request
            and not _has(r"(?:" + REMOVAL + r"|make|give|add|put|turn) |" + ASKED_AS_QUESTION, text)
            and not re.match(r"\s*(?:(?:can|could|would|will) you (?:please )?|please )(?:" + UNDO + "|" + REDO + "|" + RESET + r")", text)
        ):
            return Intent("none", note="question")

        wants_undo = _has(UNDO, text) and not _has(r"undo the undo", text)
        wants_redo = _has(REDO, text)
        wants_reset = _has(RESET, text)

        refers_back = _has(
            r"(?:" + REMOVAL + r") (?:" + PRONOUN + r")|(?:take|get|pull|put) (?:" + PRONOUN + r") (?:off|away|out)"
            r"|(?:take|get|pull) (?:off|away|out) (?:" + PRONOUN + r")",
            text,
        )  # "remove them", "take it away", learners' "take off them"
        matches = self._kept_mentions(text, self._matches(text))
        changes = self._changes(text, matches, state, refers_back)
        found = self._bare_colour(
            text,
            state,
            outside=[(s, e) for s, e, _ in matches],
            with_position=True,
            hair=any(c.attribute in _HAIR_SHAPES for c in changes),  # "more curly, and make it brown": the hair's colour
        )
        if found is not None and (
            changes or ((word := re.match(r"[a-z]+", text[found[1] :])) is not None and word.group(0) in HAIR_ONLY_COLOURS)
        ):
            colour, at = found
            if re.search(r"\binstead of (?:the |his |her )?$", text[:at]) and any(c.attribute in _GROUP_OF_COLOUR for c in changes):
                pass  # "blue eyes instead of green": the old colour, which goes (_replacing)
            elif not any(c.attribute in _GROUP_OF_COLOUR[colour] and c.strength > 0 for c in changes) or re.match(
                r"[a-z]+ instead\b", text[at:]
            ):  # "platinum and wavy", "make her blonde"; "not blond. red instead", "black is too dark, brown instead"
                changes.append(AttributeChange(colour, round(_absolute_magnitude(_clause_at(text, at)), 4)))

        if len(changes) < 2 and _has(r"(?:give|add|do|try|want) (?:(?:her|him|them|me) )?both|both of (?:them|those|these)", text):
            # "my character, who has green hair and striking blue eyes. could you give her both?": the things described
            story = self._named_anywhere(message, state)
            if len(story) == 2 and {c.attribute for c in changes} <= set(story):
                said = {c.attribute: c for c in changes}
                changes = [said.get(a) or AttributeChange(a, round(p * DEFAULT, 4)) for a, p in story.items()]
        some = re.search(r"\b(?:with|give (?:her|him|them|me)|add|try|get (?:her|him|them|me)) (?:some|one)\b(?! more)", text)
        if not changes and some:
            # "my mum always says she'd have loved freckles. could you show her with some?": the one thing the story
            # names, as much as the request says ("give her some, subtle ones")
            story = self._named_anywhere(message, state)
            if len(story) == 1:
                amount = _absolute_magnitude(text[some.start() :])
                changes = [AttributeChange(a, round(p * amount, 4)) for a, p in story.items()]
        if wants_reset and (not changes or re.search(r"\b(?:he|she|they|it|i|you)(?: will|'ll| is going to|'s going to) be\b", text)):
            return Intent("reset")  # "return to original, he will be angry": what comes after is the story
        if wants_redo and (not changes or re.search(r"(?:^|[.;] )(?:\w+,? )?" + REDO + r"(?: it| that| please)?\.(?: |$)", text)):
            return Intent("redo", steps=_count(text))  # "no, redo. I want big eyes.": what it brings back is why
        if wants_undo:
            steps = _count(text)
            asked = [
                c
                for c in changes
                if not c.complaint  # "that's too slim. undo, please": the complaint is why
                and not (
                    c.attribute in state and c.strength != 0 and abs(c.strength - state[c.attribute]) <= 0.15
                )  # "undo twice, I want the angry one back": what the undo brings back
                and not (c.strength == 0 and steps == 1 and c.attribute in last_changed)  # "undo the age one" after the age
                and not self._said_as_was(c.attribute, text)  # "no, the auburn was nicer, undo that"
                and c.attribute not in self._brought_back(text, state)  # "go back to the stronger tan", "return to the red"
            ]
            if asked and all(self._only_a_reason(c.attribute, text, matches) for c in asked):
                return Intent("undo", steps=steps)  # "i think i prefer her young. can you undo that last one?"
            if asked:
                return Intent("edit", changes=asked, undo_steps=steps)
            return Intent("undo", steps=steps)
        if changes:
            spelt = _fix_typos(message.lower(), self._spelling, self._tokens, self._typo_targets)  # "instaed of X"
            return Intent("edit", changes=self._replacing(spelt, changes, state, last_changed))
        # no attribute named: pronouns, bare numbers, bare colours and comparatives refer to the last edit
        story = self._named_anywhere(message, state) if refers_back else {}
        if refers_back and len(story) == 1 and all(p > 0 for p in story.values()) and re.search(r"[.!?]\s+\S", message.strip()):
            # "her earrings were these enormous chandelier things. can you remove them?": the photo's own, named before
            return Intent("edit", changes=[AttributeChange(a, -DEFAULT) for a in story])
        if last_changed and refers_back:
            return Intent("edit", changes=[AttributeChange(a, 0.0) for a in last_changed])
        if refers_back and not state:  # "the woman in the photo has earrings. please take them off": the photo's own
            named = {ph.attribute for _, _, ph in self._matches(_normalise(message)) if ph.polarity > 0}
            if len(named) == 1:
                return Intent("edit", changes=[AttributeChange(a, -DEFAULT) for a in named])
        undone = self._opposite_verb(text, state, last_changed)
        if undone:
            return Intent("edit", changes=undone)
        # after an edit of the hair's shape, a colour alone is the hair's ("if it were gray?" after a full head of hair)
        of_hair = any(a in _HAIR_SHAPES or (a == "bald" and state[a] < 0) for a in last_changed)
        low = message.lower()
        eyes = re.search(r"\beyes?\b", low) is not None and re.search(r"\bhair\b", low) is None
        colour = self._bare_colour(text, state, hair=of_hair, eyes=eyes)
        if colour is not None:
            rel = _relative(text)
            if rel is not None and colour in state:  # "more silver" on silver hair
                return Intent("edit", changes=[self._relative_change(colour, state, rel, 1)])
            new_one = re.search(r"\b[a-z]+ instead\b", text)  # "blond is too light, brown instead": brown's own clause
            amount = _absolute_magnitude(_clause_at(text, new_one.start()) if new_one else text)
            return Intent("edit", changes=[AttributeChange(colour, round(amount, 4))])
        number = _explicit_number(text)
        if number is not None and last_changed and len(text.split()) <= 8:
            return Intent("edit", changes=[AttributeChange(a, round(number if state[a] > 0 else -number, 4)) for a in last_changed])
        # a short sentence of relative wording, alone or among sentences of story ("that is a lot of beard. could you
        # tone it down a bit? he's not a lumberjack")
        for sentence in [text, *re.split(r"(?<=[.!?])\s+|,\s*", text)]:
            rel = _relative(sentence)
            limit = 9 if _has(PRONOUN + "|still|even", sentence) else 8  # "can you tone it down just a bit though?"
            if rel is not None and last_changed and len(re.sub(HEDGES, "", sentence).split()) <= limit:
                # "even shorter" after a red colour on short hair: the comparative's own attribute, when the state has one
                targets = self._owner_of_comparative(sentence, state) or last_changed
                if _has("shorter|longer", sentence) and all(a in _HAIR_SHAPES or a.endswith("_hair") for a in targets):
                    targets = ["long_hair"]  # "a bit shorter too" after curls or a colour: the hair's length
                return Intent("edit", changes=[self._relative_change(a, state, *self._said_of(a, sentence, rel)) for a in targets])
        # an amount said of the last edit through a pronoun or alone: "make it really strong", "make them subtle", "max."
        if (
            last_changed
            and (
                (_has(r"(?:make|turn|set|have|keep) (?:" + PRONOUN + r")", text) and _has(ABS_ANY, text))
                or (_only_modifiers(text) and _has(ABS_FULL, text))  # "a bit" alone could be more or less; "max" is not
            )
            and len(re.sub(HEDGES, "", text).split()) <= 8
        ):
            magnitude = _absolute_magnitude(text)
            return Intent("edit", changes=[AttributeChange(a, round(magnitude if state[a] > 0 else -magnitude, 4)) for a in last_changed])
        vague = _has(VAGUE, text) or _has(DELEGATE, text)
        content = content_of(text)
        if (
            self.embedder is not None
            and not vague
            and len(content.split()) <= EMBEDDING_MAX_WORDS
            and (_looks_like_request(text) or (len(text.split()) >= 2 and not _has(CHAT, text)))
        ):
            guess = self.embedder(content)
            if guess:
                attr, pol, sim = guess[0]
                margin = sim - guess[1][2] if len(guess) > 1 else sim
                if sim >= EMBEDDING_MIN_SIMILARITY and margin >= EMBEDDING_MIN_MARGIN:
                    return Intent(
                        "edit",
                        changes=[self._absolute(attr, pol, text, state, removal=False, comparative=False)],
                        note=f"embedding match {sim:.2f} (margin {margin:.2f})",
                    )
        if asks_about and not as_request and not _has(VAGUE, text):  # a question about the system or the image, not a request
            return Intent("none")
        if _has(DELEGATE, text):
            return Intent("clarify")
        if _has(r"something'?s (?:off|wrong|not right)|something is (?:off|wrong|not right)|not quite right", text):
            return Intent("clarify")  # "hmm, something's off": what, the assistant asks
        if _has(r"thanks|thank you|thx|cheers", text) and len(text.split()) <= 6 and not _has(r"can you|could you|make|please", text):
            return Intent("none", note="thanks")  # "much better. thank you, dear."
        if _has(VAGUE, text) and _looks_like_request(text) or _has(r"fix|improve|enhance|better|prettier|nicer|touch ?up", text):
            return Intent("clarify")
        if _looks_like_request(text) and not _has(CHAT, text):
            return Intent("clarify")
        return Intent("none")

    def _replacing(
        self, message: str, changes: list[AttributeChange], state: dict[str, float], last_changed: list[str]
    ) -> list[AttributeChange]:
        """``changes`` with what "instead" and "swap ... for" take away: "surprised instead" after a smile removes the
        smile; "swap the glasses for a hat" removes the glasses. The old one is the one named ("instead of X", "swap X
        for"), else the last edit, and only of the same kind as the new one (an expression for an expression, an
        accessory for an accessory, facial hair for facial hair); exclusive groups (hair and eye colours) replace by
        themselves."""
        low = message.lower()
        named_part = (
            re.search(r"\binstead of ([^,.;]+)", low)  # the old one is named up to the clause's end
            or re.search(r"\b(?:change|swap|switch|trade|exchange|replace) (.+?) (?:for|with|on|into)\b", low)  # "change X on Y"
            or re.search(r"^\W*((?:the |his |her )?[a-z]+(?: [a-z]+)?) (?:change|changed) (?:to|into|for|on)\b", low)  # "goatee change to"
            or re.search(r"\b((?:the |his |her )?[a-z]+(?: [a-z]+)?) (?:swapped|switched|traded|exchanged|replaced) (?:for|with|by)\b", low)
        )
        if named_part is None and not re.search(r"\b(?:instead|rather|swap|swapped|switch|switched)\b", low):
            return changes
        said = {ph.attribute for _, _, ph in self._matches(_normalise(named_part.group(1)))} if named_part else set()
        said |= self._colour_of_the_same_kind(named_part.group(1), changes) if named_part else set()
        named = said & set(state)
        kept = [c for c in changes if c.attribute not in said]  # the named old one, matched as a request, is what goes
        new = {c.attribute for c in kept if c.strength != 0}
        olds = sorted(named) or [a for a in last_changed if a in state and a not in {c.attribute for c in kept}]
        # the old one goes when it is named ("instead of the closed eyes, scared") or is of the new one's kind
        replaced_by_itself = {a for a in olds if a in _GROUP_OF_COLOUR and new & _GROUP_OF_COLOUR[a]}  # an exclusive group
        gone = [
            AttributeChange(a, 0.0)
            for a in olds
            if a not in replaced_by_itself and (a in named or any(a in kind and new & kind for kind in _REPLACEABLE_KINDS))
        ]
        if named_part is not None and not named_part.re.pattern.startswith(r"\binstead"):
            # "he wears glasses. change the glasses for sunglasses": the photo's own glasses go, as a removal does
            own = [a for a in sorted(said - set(state)) if any(a in kind and new & kind for kind in _REPLACEABLE_KINDS)]
            gone += [AttributeChange(a, -DEFAULT) for a in own]
            named |= set(own)
        return kept + gone if gone or named else changes

    def _brought_back(self, text: str, state: dict[str, float]) -> set[str]:
        """The attributes an undo is said to go back to ("go back to the stronger tan", "return to the red"): what it
        brings back, not a request."""
        back = set()
        for m in re.finditer(r"\b(?:back to|return to)\b", text):
            part = re.split(r"[,.;]| and ", text[m.end() :], maxsplit=1)[0]
            back |= {ph.attribute for _, _, ph in self._matches(part)}
            colour = self._bare_colour(part, state)
            if colour is not None:
                back.add(colour)
        return back

    @staticmethod
    def _only_a_reason(attr: str, text: str, matches: list[tuple[int, int, _Phrase]]) -> bool:
        """Whether ``attr`` is named only in clauses that ask nothing and hold no undo ("hmm, no, i think i prefer her
        young, that's how i picture her. can you undo that last one?"): the undo's reason, not a second request."""
        where = [start for start, _, ph in matches if ph.attribute == attr]
        if not where:
            return False
        clauses = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[^,.;]+", text)]
        for at in where:
            clause = next((c for s, e, c in clauses if s <= at < e), "")
            if _has(UNDO, clause) or _has(ASKS_FOR, clause):
                return False
        return True

    def _named_anywhere(self, message: str, state: dict[str, float]) -> dict[str, int]:
        """Attribute -> polarity of every attribute the whole message names (its story sentences too) and the state
        does not have: what "both" and "some" refer to."""
        return {ph.attribute: ph.polarity for _, _, ph in self._matches(_normalise(message)) if ph.attribute not in state}

    def _said_as_was(self, attr: str, text: str) -> bool:
        """Whether the message says how ``attr`` was ("the auburn was nicer", "red was more nice"): a reason for an
        undo, not a request."""
        words = [w for w, a in COLOUR_WORDS.get(attr.rpartition("_")[2], {}).items() if a == attr] if attr in _GROUP_OF_COLOUR else []
        if attr in self.vocab:
            words += [p for p in self.vocab[attr].positive_synonyms if " " not in p]
        return any(re.search(r"\b" + re.escape(w) + r"\b (?:was|were|looked)\b", text) for w in words)

    def _colour_of_the_same_kind(self, part: str, changes: list[AttributeChange]) -> set[str]:
        """Bare colours after "instead of" are of the new colour's kind: "blue eyes instead of green" names green eyes
        (a bare "green" alone would be the hair)."""
        if re.search(r"\b(?:hair|eyes?)\b", part):
            return set()
        kinds = [kind for kind, words in COLOUR_WORDS.items() if any(c.attribute in words.values() for c in changes)]
        return {COLOUR_WORDS[k][w] for w in re.findall(r"[a-z]+", part) for k in kinds if w in COLOUR_WORDS[k]}

    def _matches(self, text: str) -> list[tuple[int, int, _Phrase]]:
        """Synonym matches, without gender nouns that only name the person ("an old man")."""
        found = [(m.start(), m.end(), self._lookup[m.group(1)]) for m in self._pattern.finditer(text)]
        out = []
        for i, (start, end, ph) in enumerate(found):
            if ph.text in GENDER_NOUNS and i > 0 and len(text[found[i - 1][1] : start].split()) <= 1:
                continue
            out.append((start, end, ph))
        return out

    def _kept_mentions(self, text: str, matches: list[tuple[int, int, _Phrase]]) -> list[tuple[int, int, _Phrase]]:
        """``matches`` without the attribute words that only tell the story around the request (mentions.py): asked only
        when the message has two or more attribute words, and only when at least one of them reads as a request."""
        if self.mentions is None or len(matches) < 2:
            return matches
        guesses = [self.mentions(text, Mention(s, e, ph.text, ph.attribute), len(matches)) for s, e, ph in matches]
        if max(g.request for g in guesses) < self.mentions.threshold:
            return matches
        return [m for m, g in zip(matches, guesses) if g.request >= self.mentions.threshold]

    def _opposite_verb(self, text: str, state: dict[str, float], last_changed: list[str]) -> list[AttributeChange]:
        """ "open them again" after closed eyes, "straighten it" after curls: the verb of the other direction,
        said of the last edit through a pronoun, takes that edit back."""
        if not last_changed or not _has(PRONOUN, text):
            return []
        words = set(re.findall(r"[a-z]+", text))
        out = []
        for attr in last_changed:
            side = self.vocab[attr].negative_synonyms if state.get(attr, 0.0) > 0 else self.vocab[attr].positive_synonyms
            verbs = {p.split()[0] for p in side if p.split()[0] not in _NOT_VERBS}
            if words & verbs:
                out.append(AttributeChange(attr, 0.0))
        return out

    def _bare_colour(
        self,
        text: str,
        state: dict[str, float],
        outside: Sequence[tuple[int, int]] = (),
        with_position: bool = False,
        hair: bool = False,
        eyes: bool = False,
    ):
        """ "now pink": a colour word alone goes to the colour group the state already has, or to the hair's when
        ``hair`` (the message edits the hair), to the eyes' when ``eyes`` (the message names them, not the hair: "her eyes are
        blue in real life. could you make them blue?"); a colour word inside a matched phrase, as in "red lips", is not alone."""
        # the old colour ("instead of black", "not blond. red instead") is not the one asked for
        outside = [*outside, *((m.start(1), m.end(1)) for m in re.finditer(r"\b(?:instead of|not|no) (?:the |his |her )?([a-z]+)", text))]
        # a colour that names another thing's ("red lipstick", "a blue dress") is not the hair's or the eyes'
        outside += [(m.start(), m.end()) for m in re.finditer(r"\b[a-z]+(?= (?:" + _COLOURED_THINGS + r")\b)", text)]
        # words that only ever describe hair: "make her blonde" ("blond is too light, brown instead": the new one)
        only_hair = [
            m for m in re.finditer(r"[a-z]+", text) if m.group(0) in HAIR_ONLY_COLOURS and not any(s <= m.start() < e for s, e in outside)
        ]
        instead = [m for m in only_hair if text.startswith(" instead", m.end())]
        if only_hair and (instead or not re.search(r"\b(?:" + _COLOUR_NAMES + r") instead\b", text)):
            colour = COLOUR_WORDS["hair"].get((instead or only_hair)[0].group(0), "red_hair")
            return (colour, (instead or only_hair)[0].start()) if with_position else colour
        for group, words in sorted(COLOUR_WORDS.items(), key=lambda gw: gw[0] != "eyes" or not eyes):
            ids = set(words.values())
            if any(a in ids for a in state) or (hair and group == "hair") or (eyes and group == "eyes"):
                said = [m for m in re.finditer(r"[a-z]+", text) if m.group(0) in words and not any(s <= m.start() < e for s, e in outside)]
                # "black is too dark, brown instead": the colour said with "instead" is the new one
                said = [m for m in said if text.startswith(" instead", m.end())] or said
                if said:
                    return (words[said[0].group(0)], said[0].start()) if with_position else words[said[0].group(0)]
        return None

    # -- attributes -------------------------------------------------------
    def _changes(self, text, matches, state, removes_them: bool) -> list[AttributeChange]:
        if not matches:
            return []
        # a comparative right before another thing says how that thing changes: "a bit thinner mustache" is less of the
        # mustache, not a thinner face
        matches = [
            m
            for i, m in enumerate(matches)
            if not (
                m[2].comparative
                and " " not in m[2].text
                and i + 1 < len(matches)
                and not text[m[1] : matches[i + 1][0]].strip()
                and matches[i + 1][2].attribute != m[2].attribute
            )
        ]
        bounds = [0] + [m.end() for m in re.finditer(SEPARATORS, text)] + [len(text)]
        # attribute -> (change, had an explicit modifier, removal, its clause asks)
        out: dict[str, tuple[AttributeChange, bool, bool, bool]] = {}
        carry_removal = False
        prev_removal = False
        for i, (start, end, ph) in enumerate(matches):
            next_start = matches[i + 1][0] if i + 1 < len(matches) else len(text)
            if ph.text in REMOVAL_VERB_PHRASES and i + 1 < len(matches) and len(text[end:next_start].split()) <= 2:
                carry_removal = True  # "shave off his mustache": the verb removes what follows
                continue
            lo = max([b for b in bounds if b <= start] + [0])
            hi = min([b for b in bounds if b >= end] + [len(text)])
            prev_end = matches[i - 1][1] if i > 0 else 0
            if i + 1 == len(matches):
                # a trailing clause of modifiers only ("green eyes, a lot") belongs to the last attribute
                tail = text[hi:]
                if tail.strip() and _only_modifiers(tail):
                    hi = len(text)
                elif ph.attribute in state and _relative(tail) is not None and _has(PRONOUN, tail) and len(tail.split()) <= 10:
                    hi = len(text)  # "the makeup is overpowering now, can you tone it down?": "it" is the makeup
                elif re.search(r"\ban? (?:(?:really|very|super|nice) )*" + _SIZE_WORDS + r" ones?\b", tail) and len(tail.split()) <= 12:
                    hi = len(text)  # "desperate to grow a mustache. can you show him with a little one?"
                elif len(tail.split()) <= 8 and (
                    _explicit_number(tail) is not None  # "look frightened, if that's alright, maybe 80%?"
                    or (_has(r"(?:make|turn|have) (?:" + PRONOUN + r")", tail) and _has(ABS_ANY, tail))
                ):
                    hi = len(text)  # "red lips too, and make them really bold"
            left = text[max(lo, prev_end) : start]
            right = text[end : min(hi, next_start)]
            clause = (left + " " + right).strip()
            split_verb = (
                # "get a really big smile out of him" draws the smile out, it does not take it away
                (_has(r"take|get|pull", left) and re.match(r"\s*(?:off|out|away)\b(?! of (?:him|her|them|me|you)\b)", right) is not None)
                or re.match(
                    r"\s*(?:take|get|pull|took)\s+(?:(?:it|them|this|that)\s+)?(?:off|out|away)\b",
                    right,  # "glasses take out"
                )
                is not None
                or re.match(
                    r"\s*(?:(?:can|could|should|has to|have to|must|needs? to) )?(?:go|be gone|come off)\b"
                    r"|\s*(?:to )?be (?:removed?|taken off)\b",  # "her makeup to be removed" (read as "remove" by then)
                    right,
                )
                is not None
            )
            # a removal verb reaches over a coordinated list: "lose the goatee and the mustache"
            listed = (
                i > 0
                and re.fullmatch(
                    r"[\s,]*(?:and|or|&|plus|as well as|also)?\s*(?:the|his|her|their|my|your|our|those|that|any|all)?"
                    r"\s*(?:too|as well)?\s*",
                    text[prev_end:start],
                )
                is not None
            )
            removal = (
                ph.removal
                or _has(REMOVAL, left)
                or carry_removal
                or split_verb
                or (removes_them and len(matches) == 1)
                or (listed and prev_removal and re.match(r"\s*instead\b", text[end:]) is None)  # "not sad, angry instead"
            )
            prev_removal = removal
            carry_removal = False
            rel = _relative(clause)
            if rel is None and re.search(r"\btoo\s*$", left):  # "too cheerful": less of it
                rel = (-1, 0.2)
            current = state.get(ph.attribute, 0.0)
            explicit = removal or rel is not None or _has(ABS_ANY, clause) or _explicit_number(clause) is not None
            if rel is None and not removal and current * ph.polarity < 0 and _has(ABS_SLIGHT + "|" + REL_MUCH, clause):
                # "calm him down a bit" while angry: move toward the named side by a step
                step = 0.1 if _has(ABS_SLIGHT, clause) else 0.3
                change = AttributeChange(ph.attribute, round(_toward(current, ph.polarity * step), 4))
            elif rel is not None and not removal and not _has(r"\b(?:more|less) (?:and|or)", clause):
                change = self._relative_change(ph.attribute, state, rel, ph.polarity)
            else:
                # a removal names the positive attribute ("no smile" = the smile goes)
                polarity = 1 if ph.removal else ph.polarity
                if re.search(r"\bas " + re.escape(ph.text) + r" as (?:possible|you can|it gets)", text):
                    clause += " as much as possible"  # "as old as possible" wraps the attribute itself
                    explicit = True
                change = self._absolute(ph.attribute, polarity, clause, state, removal=removal, comparative=ph.comparative)
            if rel is not None and rel[0] < 0 and _has(r"too", left + " " + right):
                change.complaint = True
            if (
                (re.match(r"\W*(?:one|version|look|face)?\W*back\b", right) and _has(r"want|get|have|see|like", left))
                or _has(r"return|bring back|get back|give back", left)
                or re.match(r"\s*(?:was|were|looked) (?:(?:way|much|a lot|so) )?(?:better|nicer|best)\b", right)
            ):
                change.complaint = True  # "undo twice, I want the angry one back": what the undo brings back, not a request
            asks = _has(ASKING, left + " " + ph.text)
            if ph.attribute in out:
                earlier, earlier_explicit, earlier_removal, earlier_asks = out[ph.attribute]
                # the same attribute named twice ("really old, like a grandpa"): the modified mention wins, and a removal
                # named after it ("her chunky earrings ..., take the earrings off") wins over the story before it, as
                # does the other side asked for after a story of this one ("a very serious person, so make her smile")
                later_removal = removal and not earlier_removal and ph.polarity > 0
                turned = asks and not earlier_asks and change.strength * earlier.strength < 0
                if not later_removal and not turned and (earlier_explicit or not explicit):
                    continue
            out[ph.attribute] = (change, explicit, removal, asks)
        return [c for c, _, _, _ in out.values()]

    def _absolute(self, attr, polarity, clause, state, *, removal: bool, comparative: bool) -> AttributeChange:
        current = state.get(attr, 0.0)
        if removal:
            if current != 0:  # removing an edit that is in the state
                return AttributeChange(attr, 0.0)
            sign = -1 if polarity > 0 else 1  # the photo's own attribute ("way too much" says why, not how much)
            return AttributeChange(attr, round(sign * _absolute_magnitude(_strip_too_much(clause)), 4))
        if comparative and current != 0 and current * polarity > 0:
            rel = _relative(clause) or (1, 0.2)
            step = 0.1 if _has(ABS_SLIGHT, clause) else 0.3 if _has(ABS_STRONG, clause) else rel[1]
            return AttributeChange(attr, round(clamp(current + polarity * step), 4))
        return AttributeChange(attr, round(polarity * _absolute_magnitude(clause), 4))

    def _owner_of_comparative(self, sentence: str, state: dict[str, float]) -> list[str]:
        """The one attribute of the state that a comparative of the sentence is a word of ("shorter" for short hair)."""
        words = set(re.findall(r"[a-z]+", sentence)) & _COMPARATIVE_WORDS
        if not words:
            return []
        owners = [a for a in state if a in self._side_words and words & (self._side_words[a][0] | self._side_words[a][1])]
        return owners if len(owners) == 1 else []

    def _said_of(self, attr: str, sentence: str, rel: tuple[int, float]) -> tuple[tuple[int, float], int | None]:
        """(relative change, polarity) of a comparative said of ``attr`` through a pronoun: a comparative that is a word
        of the attribute's own synonyms goes that side's way ("make it shorter" after short hair is more of it), any
        other is more or less of what the state has."""
        words = set(re.findall(r"[a-z]+", sentence)) & _COMPARATIVE_WORDS
        for polarity, side in zip((1, -1), self._side_words[attr]):
            if words & side:
                return (1, rel[1]), polarity
        return rel, None

    @staticmethod
    def _relative_change(attr, state, rel, polarity) -> AttributeChange:
        direction, step = rel
        current = state.get(attr, 0.0)
        if current == 0:
            base = {0.1: SLIGHT, 0.2: DEFAULT, 0.3: STRONG}[step]
            pol = polarity if polarity is not None else 1
            return AttributeChange(attr, round(pol * base * direction, 4))
        if polarity is None:
            polarity = 1 if current > 0 else -1
        if direction > 0:
            new = current + polarity * step
        elif polarity * current > 0:  # less of what the state has: toward zero, stopping there
            new = _toward(current, -polarity * step)
        else:  # less of the opposite side ("less serious" while smiling): more of what the state has
            new = current - polarity * step
        return AttributeChange(attr, round(clamp(new), 4))


# first words of synonyms that are not verbs, so never read as "do the opposite" ("no bangs", "more hair")
_NOT_VERBS = {
    "no",
    "not",
    "without",
    "more",
    "less",
    "a",
    "an",
    "the",
    "full",
    "thick",
    "big",
    "small",
    "tiny",
    "dark",
    "light",
    "natural",
    "bare",
    "visible",
    "fair",
    "red",
    "pink",
    "straight",
    "short",
    "long",
    "open",
    "closed",
} - {"open"}

EMBEDDING_MAX_WORDS = 16  # a longer message the grammar finds nothing in is a story or chit-chat, not a paraphrase
EMBEDDING_MIN_SIMILARITY = 0.55
EMBEDDING_MIN_MARGIN = 0.08

_MODIFIER_ONLY = re.compile(r"(?:\s|,|\.|please|pls|but|only|just|though|the|so|bit|" + ABS_ANY + r"|\d+(?:\.\d+)? ?%?|percent)+")


def _only_modifiers(text: str) -> bool:
    return _MODIFIER_ONLY.fullmatch(text.strip()) is not None


def _toward(current: float, delta: float) -> float:
    """current + delta, stopping at zero when the move crosses it."""
    new = current + delta
    return 0.0 if new * current < 0 else clamp(new)


def _looks_like_request(text: str) -> bool:
    return _has(
        r"make|give|add|change|turn|put|can you|could you|would you|please|i want|i'd like|id like|let's|lets|edit|modify|alter|adjust|"
        r"try|do|transform|update|apply|set",
        text,
    )
