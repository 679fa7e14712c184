"""JSON API of the funds app (mounted by wanxin/api.py)."""

from ninja import Router

router = Router(tags=["funds"])
