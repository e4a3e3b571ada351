"""What text from a stranger may contain: one rule for messages, requests and file names.

NUL and other control characters crash PostgreSQL's text columns, corrupt
terminals and logs, and bidirectional overrides make a file name read as
something else ("photo\u202egnp.exe"). Chat messages may hold newlines and tabs;
names may hold neither. Every entry point applies the same rule, so SQLite and
PostgreSQL store the same things.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}


def bad_characters(text: str, *, allow_newlines: bool) -> list[str]:
    """The characters of ``text`` that the rule refuses, each as its code point (U+0000), in order of appearance."""
    found: list[str] = []
    for ch in text:
        if allow_newlines and ch in "\n\t\r":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            code = f"U+{ord(ch):04X}"
            if code not in found:
                found.append(code)
    return found


def check_text(text: str, what: str, *, allow_newlines: bool = True) -> str:
    """``text`` unchanged, or ValueError naming the refused characters (NUL, control characters, bidirectional overrides)."""
    bad = bad_characters(text, allow_newlines=allow_newlines)
    if bad:
        kinds = "control or direction-override characters" if len(bad) > 1 else "a control or direction-override character"
        raise ValueError(f"{what} contains {kinds} ({', '.join(bad[:5])}); remove {'them' if len(bad) > 1 else 'it'} and try again")
    return text
