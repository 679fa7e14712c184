"""Screens an upper app subscribes to, consulted before a customer registers and before an
SMS code is sent (DESIGN §3: a lower app never imports an upper one; the risk app registers
its rule checks here). A screen refuses by raising ``WanxinError``; none registered: allowed."""

from __future__ import annotations

from collections.abc import Callable

REGISTRATION, SMS = "registration", "sms"
_screens: dict[str, list[Callable[..., None]]] = {REGISTRATION: [], SMS: []}


def subscribe(point: str, screen: Callable[..., None]) -> None:
    if screen not in _screens[point]:  # ready() may run twice
        _screens[point].append(screen)


def screen(point: str, **figures: object) -> None:
    """Run every screen of ``point`` with ``figures``; the first refusal propagates."""
    for check in _screens[point]:
        check(**figures)
