"""Find text a person would see in a Django template that is not marked for translation.

The template language is stripped first: comments, {% blocktranslate %}…{% endblocktranslate %}
blocks, {% translate %} tags, every other tag and every {{ variable }}. What is left is parsed as
HTML; its text nodes (outside <script>, <style>, <code>, <pre>) and its visible attributes (title,
alt, placeholder, aria-label, the value of a submit/button input, content of <meta name=description>)
must then contain no letters, except a few names that read the same in every language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # wanxin/

# Words that are the same in Chinese and English pages: currency, formats, standards, and the
# bank's seal (华, a logo).
ALLOWED_WORDS = {"CSV", "API", "OpenAPI", "JSON", "PDF", "JPEG", "PNG", "ID", "¥", "%", "华"}
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "label"}
SKIPPED_ELEMENTS = {"script", "style", "code", "pre"}

_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_BLOCK_COMMENT = re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)
_BLOCKTRANSLATE = re.compile(r"\{%\s*blocktrans(?:late)?\b.*?%\}.*?\{%\s*endblocktrans(?:late)?\s*%\}", re.S)
_TAG = re.compile(r"\{%.*?%\}", re.S)
_VARIABLE = re.compile(r"\{\{.*?\}\}", re.S)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{self.line}: {self.text!r}"


def _blank(match: re.Match) -> str:
    # Keep the line count so findings point at the right line.
    return "\n" * match.group(0).count("\n")


def strip_template_language(source: str) -> str:
    for pattern in (_BLOCK_COMMENT, _COMMENT, _BLOCKTRANSLATE, _TAG, _VARIABLE):
        source = pattern.sub(_blank, source)
    return source


def has_words(text: str) -> bool:
    for word in re.split(r"[\s·,.:;!?()\[\]/|+\-–—→←…'\"“”‘’]+", text):
        if word and word not in ALLOWED_WORDS and _LETTERS.search(word):
            return True
    return False


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping.append(tag)
        attrs = dict(attrs)
        for name, value in attrs.items():
            visible = name in VISIBLE_ATTRIBUTES
            visible |= name == "value" and tag == "input" and attrs.get("type") in ("submit", "button", "reset")
            visible |= name == "content" and tag == "meta" and attrs.get("name") == "description"
            if visible and value and has_words(value):
                self.found.append((self.getpos()[0], f"{name}={value.strip()}"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SKIPPED_ELEMENTS:
            self.skipping.pop()

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and has_words(data):
            line = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
            self.found.append((line, " ".join(data.split())))


def scan(path: Path) -> list[Finding]:
    scanner = _Scanner()
    scanner.feed(strip_template_language(path.read_text(encoding="utf-8")))
    scanner.close()
    return [Finding(path, line, text) for line, text in scanner.found]


def templates(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.glob("*/templates/**/*") if p.is_file() and p.suffix in (".html", ".txt"))
