"""Untrusted text (tags, names, resource ids from billing files) made safe to show.

Billing and usage files are written by whoever can tag a resource. Their text is shown in CLI
tables, HTML and PDF reports and CSV output, so before it is shown:

- control characters (ESC, BEL, CR, line feeds, …) become visible symbols (`␛`, `␇`, `␍`, `␊`), so
  they cannot move the cursor, ring the terminal or break a table row;
- direction and invisible format characters (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) become
  `<U+202E>`, so a name cannot display reversed or hide part of itself;
- very long text is shortened in the middle for display (the full text stays in the warehouse);
- in CSV, text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
  leading `'`, as OWASP advises against CSV injection.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Cf", "Cc", "Zl", "Zp")


def _symbol(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2421 if code == 0x7F else 0x2400 + code)  # the Control Pictures block


def clean(text: str) -> str:
    """`text` with control characters as visible symbols and invisible format characters named."""
    text = _CONTROL.sub(_symbol, text)
    if text.isascii():
        return text
    return "".join(f"<U+{ord(c):04X}>" if _invisible(c) else c for c in text)


def shorten(text: str, limit: int) -> str:
    """`text` cut in the middle to at most `limit` characters (ids differ at their ends)."""
    if len(text) <= limit:
        return text
    keep = max(limit - 1, 2)
    return text[: keep - keep // 2] + "…" + text[len(text) - keep // 2 :]


def shown(value: object, limit: int = 500) -> str:
    """A value as display text: cleaned and, past `limit` characters, shortened."""
    return shorten(clean("" if value is None else str(value)), limit)
