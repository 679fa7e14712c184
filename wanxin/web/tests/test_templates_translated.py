"""Every word a person sees in a template is marked for translation.

This scans every template of every app (the platform's, the bank's, the back office's); a failure
lists each file and line with the text to wrap in {% translate %} / {% blocktranslate %}."""

from __future__ import annotations

from wanxin.web.tests.template_scan import has_words, scan, strip_template_language, templates


def test_every_template_string_is_marked_for_translation():
    findings = [finding for path in templates() for finding in scan(path)]
    by_file: dict[str, list[str]] = {}
    for finding in findings:
        by_file.setdefault(str(finding.path.relative_to(finding.path.parents[3])), []).append(str(finding))
    summary = "\n".join(f"{name}: {len(lines)}" for name, lines in sorted(by_file.items()))
    assert not findings, f"untranslated text in {len(by_file)} templates:\n{summary}\n\n" + "\n".join(
        str(f) for f in findings)


def test_scanner_finds_plain_text_and_visible_attributes(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Hello" %}</h1>\n<p>Plain words</p>\n'
        '<input placeholder="e.g. 1000">\n<button title="{% translate \'Fine\' %}">{{ label }}</button>\n'
        "{% blocktranslate %}Inside a block {{ x }}{% endblocktranslate %}\n"
        "<script>var ignored = 1;</script>{# a comment #}<td>¥ · — 100%</td>\n"
        '{% block title %}Home{% endblock %}<input type="submit" value="Send">\n'
    )
    texts = [f.text for f in scan(page)]
    assert texts == ["Plain words", "placeholder=e.g. 1000", "Home", "value=Send"]
    assert [f.line for f in scan(page)] == [2, 3, 7, 7]


def test_chinese_text_counts_too():
    assert has_words("资金动态")
    assert not has_words("¥ · 100% →")
    assert strip_template_language('{% if a %}{{ b }}{% endif %}') == ""
