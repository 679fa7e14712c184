"""The Content-Security-Policy: sent on every response, and the templates hold nothing it would
refuse (inline script, <style>, style= attributes, on…= handlers, javascript: links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wanxin.web import csp

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(ROOT.glob("wanxin/**/templates/**/*.html"))
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "on…= handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "wanxin")))
def test_templates_hold_nothing_the_policy_refuses(template):
    text = template.read_text()
    found = [f"{what}: {m.group(0)[:80]}" for what, pattern in INLINE.items() for m in pattern.finditer(text)]
    assert not found, found


def test_the_policy_allows_no_inline_code_and_lets_forms_reach_the_bank(settings):
    settings.BANK_URL = "https://bank.example.com:8443/bank"
    policy = csp.policy()
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self' https://bank.example.com:8443"
    assert "unsafe" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login", "/bank/", "/no-such-page", "/api/v1/openapi.json"])
def test_every_response_carries_the_policy(client, path):
    answer = client.get(path)
    assert answer["Content-Security-Policy"] == csp.policy()


def test_static_files_are_served_with_debug_off(client, settings):
    assert settings.DEBUG is False
    for path in ["/static/web/site.js", "/static/web/site.css", "/static/bank/bank.css", "/static/ninja/swagger-ui.css"]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_missing_page_lists_no_url_patterns(client):
    answer = client.get("/no-such-page")
    assert answer.status_code == 404
    assert b"URLconf" not in answer.content and b"api/v1/" not in answer.content
