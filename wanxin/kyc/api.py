"""JSON API of the kyc app (mounted by wanxin/api.py)."""

from ninja import Router

router = Router(tags=["kyc"])
