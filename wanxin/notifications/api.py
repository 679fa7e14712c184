"""JSON API of the notifications app (mounted by wanxin/api.py)."""

from ninja import Router

router = Router(tags=["notifications"])
