"""Every translatable string in the code and templates has a Traditional Chinese translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import extract_messages  # noqa: F401  (ensures babel's extractors are installed)
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "zh_Hant" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    method_map = []
    options_map = {}
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        if line.startswith("["):
            method, _, pattern = line.strip("[]").partition(": ")
            method_map.append((pattern, method))
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and m.string and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"{len(missing)} strings lack a zh_Hant translation (run scripts/i18n.sh), e.g. {missing[:10]}"


def test_translations_keep_their_placeholders():
    import re
    with PO.open("rb") as f:
        catalog = read_po(f)
    bad = []
    for m in catalog:
        if m.id and isinstance(m.id, str) and m.string:
            if sorted(re.findall(r"%\(\w+\)s", m.id)) != sorted(re.findall(r"%\(\w+\)s", m.string)):
                bad.append(m.id)
    assert not bad, bad[:10]
