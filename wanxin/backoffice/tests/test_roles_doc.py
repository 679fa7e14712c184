"""docs/roles.md is what roles.py's table gives (regenerate: python -m wanxin.backoffice.roles_doc)."""

from __future__ import annotations

from wanxin.audit import roles
from wanxin.backoffice import roles_doc


def test_the_page_matches_the_table():
    assert roles_doc.DOC.read_text(encoding="utf-8") == roles_doc.render(), (
        "docs/roles.md is stale: run python -m wanxin.backoffice.roles_doc")


def test_every_grant_of_the_table_is_on_the_page():
    rows = {line.split("`")[1]: line for line in roles_doc.render().splitlines() if line.startswith("| `")}
    assert set(rows) == set(roles.PERMISSIONS)
    for codename, line in rows.items():
        cells = [cell.strip() for cell in line.strip("|").split("|")[1:]]
        assert [role for role, cell in zip(roles.ROLES, cells, strict=True) if cell == "✓"] == roles.roles_with(codename)
