"""JSON API of the accounts app (mounted by wanxin/api.py)."""

from ninja import Router

router = Router(tags=["accounts"])
