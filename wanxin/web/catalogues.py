"""Compile every app's translation catalogue (locale/*/LC_MESSAGES/django.po → .mo).

Pure Python (polib), so a fresh machine needs no GNU gettext: `make run`, `make test` and the
test suite call this before Django loads. Only catalogues whose .po is newer than their .mo are
rewritten. Fuzzy and untranslated entries are left out, as msgfmt does.

    python -m wanxin.web.catalogues [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

PACKAGE = Path(__file__).resolve().parents[1]  # wanxin/


def catalogues(root: Path = PACKAGE) -> list[Path]:
    return sorted(root.glob("*/locale/*/LC_MESSAGES/*.po"))


def compile_all(root: Path = PACKAGE, *, force: bool = False) -> list[Path]:
    """Write the .mo beside each stale .po; returns the .mo files written."""
    written = []
    for po_path in catalogues(root):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def problems(root: Path = PACKAGE) -> list[str]:
    """Untranslated or fuzzy entries, and translations whose placeholders differ from the source."""
    found = []
    for po_path in catalogues(root):
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            where = f"{po_path.relative_to(root.parent)}: {entry.msgid!r}"
            if entry.fuzzy or not entry.translated():
                found.append(f"{where} is not translated")
                continue
            translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
            for text in translations:
                if _placeholders(text) != _placeholders(entry.msgid):
                    found.append(f"{where}: placeholders differ in {text!r}")
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\([a-z_0-9]+\)[sd]|\{[a-z_0-9]*\}|%[sd]", text))


if __name__ == "__main__":
    if "--check" in sys.argv:
        issues = problems()
        print("\n".join(issues) or "all catalogues complete")
        sys.exit(1 if issues else 0)
    done = compile_all(force="--force" in sys.argv)
    print(f"compiled {len(done)} catalogue(s)")
