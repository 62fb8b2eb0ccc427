"""Keep the Simplified Chinese catalogue complete.

    python scripts/zh.py missing          # untranslated or fuzzy messages, as a JSON object to fill in
    python scripts/zh.py fill FILE.json   # write {msgid: msgstr} into the catalogue and compile it

Run `make messages` first to extract new messages from the source.
"""

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def missing() -> None:
    po = polib.pofile(str(PO))
    todo = {e.msgid: "" for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)}
    sys.stdout.write(json.dumps(todo, ensure_ascii=False, indent=1) + "\n")


def fill(path: str) -> None:
    translations = json.loads(Path(path).read_text(encoding="utf-8"))
    po = polib.pofile(str(PO))
    for entry in po:
        if entry.msgid in translations and translations[entry.msgid]:
            if entry.msgid_plural:
                entry.msgstr_plural = {0: translations[entry.msgid]}
            else:
                entry.msgstr = translations[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.previous_msgid = None
    po.metadata_is_fuzzy = False
    po.save()
    po.save_as_mofile(str(PO.with_suffix(".mo")))
    left = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    sys.stdout.write(f"filled; still missing: {left}\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["missing"]:
        missing()
    elif sys.argv[1:2] == ["fill"] and len(sys.argv) == 3:
        fill(sys.argv[2])
    else:
        sys.exit(__doc__)
