"""Text that cannot pass for something else: invisible controls found, named and shown.

Two kinds of characters make text display differently from what it is:

* **control characters** (C0, DEL, C1): an ESC starts an ANSI or OSC sequence that a terminal
  obeys (colours, a rewritten title, a hidden line, a link); a carriage return overwrites the
  line it is on;
* **bidirectional controls** (U+202A-U+202E embeddings and overrides, U+2066-U+2069
  isolates): a right-to-left override shows `P1<RLO>10` as `P101` reversed, the "Trojan
  Source" trick (CVE-2021-42574). The marks U+200E/U+200F, which real right-to-left text
  needs, are not among them.

Every layer uses these: `check` and the data loaders flag them (an error, or a rejected
record naming the field), and the terminal, HTML and CSV outputs show any that reach them as
a visible escape (`\\x1b`, `<U+202E>`) instead of obeying it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Bidirectional embedding, override and isolate controls (Unicode Bidirectional Algorithm,
# UAX #9): the characters that reorder the display of the text around them.
BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_PATTERN: Final = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The same written as JSON escapes (`\u202e`), found in the text of a JSON line before parsing.
BIDI_ESCAPE: Final = re.compile(r"\\u(?:202[a-eA-E]|206[6-9])")

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional controls: what a
# terminal line must not carry raw. Shown as Python writes them (\x1b) or as <U+202E>.
_TERMINAL: Final[dict[int, str]] = {
    **{c: f"\\x{c:02x}" for c in range(0x20) if c not in (0x09, 0x0A)},
    0x7F: "\\x7f",
    **{c: f"\\x{c:02x}" for c in range(0x80, 0xA0)},
    **{ord(c): f"<U+{ord(c):04X}>" for c in BIDI_CONTROLS},
}
# In one-line values (ids, names, table cells) a newline or tab is shown too.
_ONE_LINE: Final[dict[int, str]] = {**_TERMINAL, 0x09: "\\t", 0x0A: "\\n"}
# In documents (HTML, Markdown): only the bidirectional controls (a control character cannot
# act there, and HTML autoescaping already handles markup).
_DOCUMENT: Final[dict[int, str]] = {ord(c): f"<U+{ord(c):04X}>" for c in BIDI_CONTROLS}


def terminal_safe(text: str) -> str:
    """`text` with every control character but tab and newline, and every bidirectional
    control, replaced by a visible escape: safe to write to a terminal."""
    return text.translate(_TERMINAL)


def one_line(text: str) -> str:
    """As `terminal_safe`, newlines and tabs escaped too: for a value shown on one line."""
    return text.translate(_ONE_LINE)


def document_safe(text: str) -> str:
    """`text` with the bidirectional controls shown as `<U+202E>` (for HTML and Markdown)."""
    return text.translate(_DOCUMENT) if _BIDI_PATTERN.search(text) else text


def bidi_control(text: str) -> str | None:
    """The first bidirectional control character in `text`, or None."""
    match = _BIDI_PATTERN.search(text)
    return match.group() if match else None


def unprintable(text: str) -> str | None:
    """The first character of `text` that is not printable (a control, format or separator
    character other than the space: ESC, NUL, U+202E, U+00A0...), or None."""
    if text.isprintable():
        return None
    return next(c for c in text if not c.isprintable())


def describe_char(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`, `U+001B (ESCAPE)`."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    return f"U+{ord(char):04X} ({name})"


_CONTROL_NAMES: Final = {
    0x00: "NULL", 0x07: "BELL", 0x08: "BACKSPACE", 0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED", 0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE", 0x7F: "DELETE", 0x9B: "CONTROL SEQUENCE INTRODUCER",
    0x9D: "OPERATING SYSTEM COMMAND",
}  # fmt: skip
