"""Run by ``test_crash_retry`` as a separate platform process: submit one bid (or a funds
recharge) with an idempotency key and die by SIGKILL at the point named, as a killed worker
would: no exception handler, no after-commit callback, no answer runs after that point.

    python -m wanxin.lending.tests.crash_submit '{"what": "bid", "point": "before_send", ...}'

Points: ``in_transaction`` (the reservation and its records written, not committed),
``before_send`` (committed, nothing sent to the bank), ``before_apply`` (the bank committed
the freeze, its answer not applied), ``before_answer`` (all done, the client never told).
"""

from __future__ import annotations

import json
import os
import signal
import sys


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main(args: dict) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from wanxin.depository import outbox
    from wanxin.depository import services as depository
    from wanxin.depository.client import BankClient
    from wanxin.funds import services as funds
    from wanxin.lending import services as lending

    point = args["point"]
    if point == "in_transaction":
        if args["what"] == "bid":
            outbox.request_send_soon = lambda record: die()  # written, inside the transaction
        else:
            real_create = depository.request_create

            def create_then_die(**kwargs):
                real_create(**kwargs)
                die()

            depository.request_create = create_then_die
    elif point == "before_send":
        depository.request_send = lambda **kwargs: die()  # a recharge's direct send
        outbox.send_now = lambda records, **kwargs: die()  # a bid's freeze, sent from the outbox
    elif point == "before_apply":
        real_send = BankClient.send

        def send_then_die(self, service_name, data):
            real_send(self, service_name, data)
            die()

        BankClient.send = send_then_die
    user = get_user_model().objects.get(pk=args["user"])
    if args["what"] == "bid":
        lending.tender_place_once(investor=user, project_id=args["project"], amount=args["amount"], token=args["key"])
    else:
        funds.submit_once(user=user, token=args["key"], request={"service": "RECHARGE", "amount": args["amount"]},
                          start=lambda: funds.recharge_start(user=user, amount=args["amount"]))
    if point == "before_answer":
        die()
    print("survived", point)  # the test fails: the point was never reached


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
