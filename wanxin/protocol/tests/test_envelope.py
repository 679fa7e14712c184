import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.protocol import codes, envelope, messages, signing
from wanxin.protocol.codes import ProtocolError

KEY = signing.generate_private_key()
OTHER = signing.generate_private_key()
NOW = 1_800_000_000_000


def test_signature_round_trip_and_tamper():
    env = envelope.build_request(KEY, service_name="QUERY_BALANCE", platform_no="WANXIN", data={"a": 1})
    assert signing.verify(KEY.public_key(), env.req_data, env.signature)
    assert not signing.verify(OTHER.public_key(), env.req_data, env.signature)
    tampered = envelope.encode_data({"a": 2})
    assert not signing.verify(KEY.public_key(), tampered, env.signature)
    assert not signing.verify(KEY.public_key(), env.req_data, "not base64!")


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("@@@", "base64"),
        (base64.b64encode(b"\xff\xfe").decode(), "UTF-8"),
        (base64.b64encode(b"not json").decode(), "JSON"),
        (base64.b64encode(b"[1,2]").decode(), "object"),
        (base64.b64encode(b'{"a": NaN}').decode(), "JSON"),
    ],
)
def test_decode_refuses_broken_data(raw, reason):
    with pytest.raises(ProtocolError) as err:
        envelope.decode_data(raw)
    assert err.value.code == codes.INVALID_PARAMS
    assert reason in err.value.message


def _req(**fields):
    return {"requestNo": "R1", "timestamp": NOW, **fields}


@pytest.mark.parametrize(
    "amount",
    [0, -1, 1.5, 100.0, "100", True, None, 10**16, [1]],
)
def test_amounts_must_be_positive_integer_fen(amount):
    data = _req(userNo="u1", bizType="ALLOCATION", amount=amount)
    with pytest.raises(ProtocolError) as err:
        messages.validate_request("USER_PRE_TRANSACTION", data, now_ms=NOW)
    assert err.value.code == codes.INVALID_PARAMS
    assert "amount" in err.value.message


def test_timestamp_window_is_300_seconds():
    ok = _req(userNo="u1")
    messages.validate_request("QUERY_BALANCE", {**ok, "timestamp": NOW - 300_000}, now_ms=NOW)
    for off in (301_000, -301_000):
        with pytest.raises(ProtocolError) as err:
            messages.validate_request("QUERY_BALANCE", {**ok, "timestamp": NOW - off}, now_ms=NOW)
        assert err.value.code == codes.BAD_TIMESTAMP


@pytest.mark.parametrize(
    "service, data, field",
    [
        ("QUERY_BALANCE", {"timestamp": NOW, "userNo": "u"}, "requestNo"),
        ("QUERY_BALANCE", {"requestNo": "bad no!", "timestamp": NOW, "userNo": "u"}, "requestNo"),
        ("QUERY_BALANCE", {"requestNo": "x" * 65, "timestamp": NOW, "userNo": "u"}, "requestNo"),
        ("QUERY_BALANCE", _req(), "userNo"),
        ("QUERY_BALANCE", _req(userNo=5), "userNo"),
        ("QUERY_BALANCE", _req(userNo="u", extra=1), "unknown field extra"),
        ("USER_PRE_TRANSACTION", _req(userNo="u", bizType="TENDER", amount=100), "projectNo"),
        ("USER_PRE_TRANSACTION", _req(userNo="u", bizType="GIFT", amount=100), "bizType"),
        ("WITHDRAW", _req(userNo="u", amount=100, commission=100, callbackUrl="http://x/"), "commission"),
        ("WITHDRAW", _req(userNo="u", amount=100, commission=-1, callbackUrl="http://x/"), "commission"),
        ("RECHARGE", _req(userNo="u", amount=100, callbackUrl="javascript:alert(1)"), "callbackUrl"),
        ("TRANSFER", _req(bizType="COMPENSATION", payer="a", payee="a", amount=1), "differ"),
        ("TRANSFER", _req(bizType="COMPENSATION", payer="a", payee="b", amount=1), "platform account"),
        ("CREATE_PROJECT", _req(projectNo="p", borrowerUserNo="b", amount=1, annualRate=0.1, periods=12,
                                repaymentMethod="BULLET", name="n"), "annualRate"),
        ("CREATE_PROJECT", _req(projectNo="p", borrowerUserNo="b", amount=1, annualRate="0.1", periods=0,
                                repaymentMethod="BULLET", name="n"), "periods"),
        ("CONFIRM_LOAN", _req(projectNo="p", commission=0, details=[]), "details"),
        ("CONFIRM_LOAN", _req(projectNo="p", commission=0,
                              details=[{"preRequestNo": "a", "amount": 1}, {"preRequestNo": "a", "amount": 2}]),
         "repeats"),
        ("DOWNLOAD_STATEMENT", _req(date="2026-02-30"), "date"),
        ("NO_SUCH_SERVICE", _req(), "serviceName"),
    ],
)
def test_field_errors_name_the_field(service, data, field):
    with pytest.raises(ProtocolError) as err:
        messages.validate_request(service, data, now_ms=NOW)
    assert err.value.code == codes.INVALID_PARAMS
    assert field in err.value.message


def test_valid_request_is_cleaned():
    cleaned = messages.validate_request(
        "CREATE_PROJECT",
        _req(projectNo="P1", borrowerUserNo="b1", amount=100_000, annualRate="0.15", periods=12,
             repaymentMethod="EQUAL_INSTALLMENT", name="Car loan"),
        now_ms=NOW,
    )
    assert cleaned["annualRate"] == "0.150000"


@given(st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=5))
def test_encode_decode_round_trip(data):
    assert envelope.decode_data(envelope.encode_data(data)) == data
    assert json.loads(base64.b64decode(envelope.encode_data(data))) == data


# -- §4a: notifications are signed apart from responses -----------------------------------------


def test_notification_signature_covers_the_prefix():
    data = {"requestNo": "R1", "respCode": "00000", "serviceName": "RECHARGE", "notifiedAt": NOW}
    body = envelope.sign_notification(KEY, data)
    assert signing.verify(KEY.public_key(), "NOTIFY:" + body["respData"], body["signature"])
    assert envelope.open_notification(KEY.public_key(), body) == data
    # A notification is not a response either: each signature opens only its own kind.
    with pytest.raises(ProtocolError) as err:
        envelope.open_response(KEY.public_key(), body)
    assert err.value.code == codes.BAD_SIGNATURE


def test_a_response_is_refused_as_a_notification():
    data = {"requestNo": "R1", "respCode": "00004", "serviceName": "RECHARGE", "notifiedAt": NOW}
    with pytest.raises(envelope.ResponseAsNotification) as err:
        envelope.open_notification(KEY.public_key(), envelope.sign_response(KEY, data))
    assert err.value.code == codes.BAD_SIGNATURE
    with pytest.raises(ProtocolError) as err:
        envelope.open_notification(OTHER.public_key(), envelope.sign_notification(KEY, data))
    assert not isinstance(err.value, envelope.ResponseAsNotification)


@pytest.mark.parametrize("data", [
    {"requestNo": "R1", "respCode": "00000"},
    {"requestNo": "R1", "respCode": "00000", "serviceName": "RECHARGE"},
    {"requestNo": "R1", "respCode": "00000", "serviceName": "RECHARGE", "notifiedAt": "1"},
    {"requestNo": "R1", "respCode": "00000", "serviceName": 1, "notifiedAt": NOW},
])
def test_a_notification_names_its_service_and_time(data):
    with pytest.raises(ProtocolError) as err:
        envelope.open_notification(KEY.public_key(), envelope.sign_notification(KEY, data))
    assert err.value.code == codes.INVALID_PARAMS and "serviceName or notifiedAt" in err.value.message


# -- hostile JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 50_000, '{"a":' * 50_000, "[" * 50_000 + "]" * 50_000,
                                  '{"requestNo":"R","x":' + "[" * 50_000 + "]" * 50_000 + "}"])
def test_deep_nesting_is_an_ordinary_refusal(text):
    with pytest.raises(ValueError, match="nested too deeply"):
        envelope.parse_json(text)
    with pytest.raises(ProtocolError) as err:
        envelope.decode_data(base64.b64encode(text.encode()).decode())
    assert err.value.code == codes.INVALID_PARAMS and "nested too deeply" in err.value.message


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"{", b"NaN", b'{"a": Infinity}'])
def test_parse_json_raises_only_value_error(raw):
    with pytest.raises(ValueError):
        envelope.parse_json(raw)
