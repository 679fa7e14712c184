"""Every write of risk control, by sub-area: the rule check that callers consult and its log
(``check``), and the risk officers' changes to ``rules``, the ``blacklist`` and the ``points``
table; ``common`` holds what they share. The public names stay importable from here.

``rules_check`` is the one entry point for callers above (lending, allocation) and, through the
subscriptions registered in ``apps.RiskConfig.ready``, for accounts below. Call it before
opening the action's own transaction: its log row commits by itself, so a refused action still
leaves its record; or inside it (the bid) and ``CheckResult.log_again()`` if it rolls back.
"""

from wanxin.core.errors import Conflict, NotFound

from .blacklist import blacklist_add, blacklist_expire
from .check import CheckResult, registration_screen, rules_check, sms_screen
from .common import RiskBlocked, RuleRefused, reason
from .points import score_band_delete, score_band_save
from .rules import RuleInput, rule_change, rule_create, rule_expire

__all__ = [
    "CheckResult",
    "Conflict",
    "NotFound",
    "RiskBlocked",
    "RuleInput",
    "RuleRefused",
    "blacklist_add",
    "blacklist_expire",
    "reason",
    "registration_screen",
    "rule_change",
    "rule_create",
    "rule_expire",
    "rules_check",
    "score_band_delete",
    "score_band_save",
    "sms_screen",
]
