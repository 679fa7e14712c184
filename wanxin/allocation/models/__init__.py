"""Allocation products, the trading calendar's holidays, allocations with their fund
records, bank requests, daily account statuses, requests, calls, sub-accounts and
settlements. Amounts are BigIntegerField fen; rates Decimal with six places."""

# One module per part (``products``, ``allocations``, ``records``, ``servicing``); every model
# stays importable from here, where Django looks for them.
from .allocations import Allocation
from .products import Holiday, Product, ProductMultiple, SubAccount
from .records import BankRequest, DailyStatus, FeeCharge, FundRecord
from .servicing import CallRecord, Request, Settlement

__all__ = [
    "Allocation",
    "BankRequest",
    "CallRecord",
    "DailyStatus",
    "FeeCharge",
    "FundRecord",
    "Holiday",
    "Product",
    "ProductMultiple",
    "Request",
    "Settlement",
    "SubAccount",
]
