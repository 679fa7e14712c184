"""JSON API of the backoffice app (mounted by wanxin/api.py)."""

from ninja import Router

router = Router(tags=["backoffice"])
