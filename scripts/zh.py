"""Keep the Simplified Chinese catalogue complete.

    python scripts/zh.py missing          # untranslated or fuzzy messages, as a JSON object to fill in
    python scripts/zh.py fill FILE.json   # write {msgid: msgstr} into the catalogue and compile it
    python scripts/zh.py resolve          # after a merge conflict in the catalogue: keep both sides'
                                          # translations, re-extract with `make messages`, compile

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
                entry.previous_msgid_plural = None
    po.metadata_is_fuzzy = False
    po.save()
    po.save_as_mofile(str(PO.with_suffix(".mo")))
    left = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    sys.stdout.write(f"filled; still missing: {left}\n")


def resolve() -> None:
    """Union of the translations of both sides of a conflicted merge, written into a fresh extraction."""
    import subprocess
    import tempfile

    known: dict[str, str] = {}
    relative = PO.relative_to(PO.parents[3])
    for stage in (3, 2):  # theirs first, ours wins on a clash
        text = subprocess.run(
            ["git", "show", f":{stage}:{relative}"], capture_output=True, text=True, check=True, cwd=PO.parents[3]
        ).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".po", delete=False, encoding="utf-8") as handle:
            handle.write(text)
        for entry in polib.pofile(handle.name):
            if entry.translated():
                known[entry.msgid] = entry.msgstr or entry.msgstr_plural.get(0, "")
    PO.unlink()  # extract afresh from the merged source, then put every known translation back
    PO.with_suffix(".mo").unlink(missing_ok=True)
    subprocess.run(["make", "messages"], check=True, cwd=PO.parents[3], capture_output=True)
    header = polib.pofile(str(PO))
    header.header = "Portcullis: Simplified Chinese catalogue. Keep it complete (tests/portal/test_i18n.py)."
    header.metadata.update({"Project-Id-Version": "portcullis", "Language": "zh_Hans"})
    header.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    for name in ("Report-Msgid-Bugs-To", "Last-Translator", "Language-Team", "PO-Revision-Date"):
        header.metadata.pop(name, None)
    header.save()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(known, handle, ensure_ascii=False)
    fill(handle.name)


if __name__ == "__main__":
    if sys.argv[1:2] == ["missing"]:
        missing()
    elif sys.argv[1:2] == ["fill"] and len(sys.argv) == 3:
        fill(sys.argv[2])
    elif sys.argv[1:2] == ["resolve"]:
        resolve()
    else:
        sys.exit(__doc__)
