"""Characters that have no place in text typed by users: what to refuse and how to clean it (no Flask, no database).

PostgreSQL refuses NUL in text; other C0/C1 controls are invisible and break mail headers and exports; bidi
embedding and isolate controls (U+202A-U+202E, U+2066-U+2069) make a name or a file name display reversed
("invoice\\u202Efdp.exe" shows as "invoiceexe.pdf"). Multi-line text keeps tab, line feed and carriage return,
and the bidi controls that right-to-left writing may need; a single line keeps none of them.
"""
from __future__ import annotations

import re
import unicodedata

_C0_C1_EXCEPT_LINES = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_LINE_BREAKS = "\t\n\r\u2028\u2029"
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI_MARKS = "\u200e\u200f\u061c"

_NOT_IN_MULTILINE = re.compile(f"[{_C0_C1_EXCEPT_LINES}]")
_NOT_IN_LINE = re.compile(f"[{_C0_C1_EXCEPT_LINES}{_LINE_BREAKS}{_BIDI_CONTROLS}]")
_BREAK_RUN = re.compile(f"[{_LINE_BREAKS}\x0b\x0c]+")
_NOT_IN_FILE_NAME = re.compile(f"[{_C0_C1_EXCEPT_LINES}{_LINE_BREAKS}{_BIDI_CONTROLS}{_BIDI_MARKS}]")


def has_line_controls(value: str | None) -> bool:
    """True if a single-line value holds a control, line-break or bidi control character."""
    return bool(value) and _NOT_IN_LINE.search(value) is not None


def has_multiline_controls(value: str | None) -> bool:
    """True if multi-line text holds a control character other than tab, line feed and carriage return."""
    return bool(value) and _NOT_IN_MULTILINE.search(value) is not None


def clean_line(value: str | None) -> str:
    """One line: line breaks and tabs become one space, other control and bidi control characters go."""
    return _NOT_IN_LINE.sub("", _BREAK_RUN.sub(" ", value or ""))


def clean_multiline(value: str | None) -> str:
    """Multi-line text without NUL and the other invisible controls (tab and line breaks stay)."""
    return _NOT_IN_MULTILINE.sub("", value or "")


def clean_file_name(value: str | None) -> str:
    """A file name to show: NFC, one line, and no bidi controls or marks that could reorder its extension."""
    return _NOT_IN_FILE_NAME.sub("", _BREAK_RUN.sub(" ", unicodedata.normalize("NFC", value or "")))


def header_value(value: str | None) -> str:
    """A mail header value: one line (CR/LF folded to a space, so a header can neither fail nor be injected)."""
    return " ".join(clean_line(value).split())
