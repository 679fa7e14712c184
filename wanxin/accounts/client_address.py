"""The client's address, for login lockouts (django-axes), SMS per-IP limits and the audit log.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when the
request comes from one of ``settings.WANXIN_TRUSTED_PROXIES`` (IP addresses or CIDR networks;
none by default). Then the header is read from the right: each hop appended by a trusted proxy
is skipped and the first address a trusted proxy did not add is the client. Anything a client
wrote further left is never reached, so it cannot choose its own address; an unreadable hop
stops the walk at the last trusted one.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.WANXIN_TRUSTED_PROXIES))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request: HttpRequest) -> str | None:
    """The address of the client that sent ``request`` (``AXES_CLIENT_IP_CALLABLE``)."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    networks = trusted_networks()
    if not networks or not _trusted(peer, networks):
        return str(peer)
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
