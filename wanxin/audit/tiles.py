"""The dashboard's tiles: work waiting for an operator, registered by the app that owns it
(lending, repayments, kyc…), so the back office needs no import of those apps, and they none
of the back office (the registry sits here, in the foundation; the console draws it). A tile shows
to operators holding its permission; its count runs when the dashboard is drawn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import roles


@dataclass(frozen=True)
class Tile:
    codenames: tuple[str, ...]  # any one of these permissions shows it
    label: str
    url: str
    count: Callable[[], int]
    order: int


_tiles: list[Tile] = []


def register(*codenames: str, label: str, url: str, order: int = 50) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Decorator for a function returning the tile's count."""
    for codename in codenames:
        roles.perm(codename)  # an unknown permission fails at import, not on the page

    def add(count: Callable[[], int]) -> Callable[[], int]:
        if not any(t.label == label for t in _tiles):  # a module imported twice registers once
            _tiles.append(Tile(codenames, label, url, count, order))
        return count

    return add


def tiles_for(user) -> list[tuple[str, int, str]]:
    return [(t.label, t.count(), t.url) for t in sorted(_tiles, key=lambda t: (t.order, t.label))
            if any(user.has_perm(roles.perm(c)) for c in t.codenames)]
