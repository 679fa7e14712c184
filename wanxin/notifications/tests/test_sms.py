"""SMS sending: the backends, the sending log, the development page."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wanxin.core.errors import WanxinError
from wanxin.notifications.models import SmsMessage
from wanxin.notifications.services import SmsUnavailable, sms_send

pytestmark = pytest.mark.django_db


def log_rows():
    return list(SmsMessage.objects.order_by("id").values_list("mobile", "purpose", "text", "backend", "status"))


def test_memory_backend_delivers_and_every_message_is_logged(outbox):
    first = sms_send(mobile="13800138000", purpose="register", text="hello 1")
    sms_send(mobile="13900139000", purpose="loan_published", text="hello 2")
    assert [(m.mobile, m.text) for m in outbox] == [("13800138000", "hello 1"), ("13900139000", "hello 2")]
    assert log_rows() == [
        ("13800138000", "register", "hello 1", "memory", "SENT"),
        ("13900139000", "loan_published", "hello 2", "memory", "SENT"),
    ]
    assert first.error == "" and first.created_at is not None


@pytest.mark.parametrize("mobile", ["", "1380013800", "138001380001", "12800138000", "1380013800a", "+8613800138000"])
def test_malformed_mobile_is_refused_and_nothing_is_sent_or_logged(outbox, mobile):
    with pytest.raises(WanxinError) as refused:
        sms_send(mobile=mobile, purpose="register", text="hello")
    assert refused.value.code == "invalid_mobile"
    assert "11 digits" in refused.value.message
    assert outbox == [] and log_rows() == []


@pytest.mark.parametrize(("text", "code"), [("  ", "empty_sms"), ("x" * 501, "sms_too_long")])
def test_empty_or_overlong_text_is_refused(outbox, text, code):
    with pytest.raises(WanxinError) as refused:
        sms_send(mobile="13800138000", purpose="register", text=text)
    assert refused.value.code == code
    assert outbox == [] and log_rows() == []


def test_secrets_are_masked_in_the_log_when_configured_but_delivered_intact(outbox, settings):
    settings.SMS_LOG_REDACT_SECRETS = True
    sms_send(mobile="13800138000", purpose="login", text="Your code is 123456.", secrets=["123456"])
    assert outbox[0].text == "Your code is 123456."
    assert log_rows() == [("13800138000", "login", "Your code is ******.", "memory", "SENT")]


def test_secrets_stay_readable_in_the_log_outside_production(outbox, settings):
    settings.SMS_LOG_REDACT_SECRETS = False
    sms_send(mobile="13800138000", purpose="login", text="Your code is 123456.", secrets=["123456"])
    assert log_rows() == [("13800138000", "login", "Your code is 123456.", "memory", "SENT")]


def test_console_backend_appends_to_the_sms_log_file(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.SMS_BACKEND = "wanxin.notifications.backends.ConsoleBackend"
    sms_send(mobile="13800138000", purpose="register", text="first")
    sms_send(mobile="13900139000", purpose="login", text="second")
    lines = (tmp_path / "var" / "sms.log").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[1:] for line in lines] == [["13800138000", "first"], ["13900139000", "second"]]
    assert [row[3] for row in log_rows()] == ["console", "console"]


def test_unconfigured_provider_refuses_clearly_and_logs_the_failure(settings, outbox):
    settings.SMS_BACKEND = "wanxin.notifications.provider.ProviderBackend"
    settings.SMS_PROVIDER_URL, settings.SMS_PROVIDER_API_KEY = "", ""
    with pytest.raises(SmsUnavailable) as refused:
        sms_send(mobile="13800138000", purpose="register", text="hello")
    assert (refused.value.status, refused.value.code) == (503, "sms_unavailable")
    assert "try again" in refused.value.message
    [row] = SmsMessage.objects.all()
    assert (row.status, row.backend) == ("FAILED", "provider")
    assert "SMS_PROVIDER_URL" in row.error
    assert outbox == []


class _Provider(BaseHTTPRequestHandler):
    received: list = []
    answer = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Authorization"], json.loads(body)))
        self.send_response(type(self).answer)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    _Provider.received, _Provider.answer = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "wanxin.notifications.provider.ProviderBackend"
    settings.SMS_PROVIDER_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_PROVIDER_API_KEY = "key-1"
    yield _Provider
    server.shutdown()
    server.server_close()


def test_provider_backend_posts_to_the_configured_gateway(provider):
    sms_send(mobile="13800138000", purpose="register", text="hello")
    assert provider.received == [("Bearer key-1", {"mobile": "13800138000", "text": "hello"})]
    assert log_rows() == [("13800138000", "register", "hello", "provider", "SENT")]


def test_provider_error_answer_is_a_logged_failure(provider):
    provider.answer = 500
    with pytest.raises(SmsUnavailable):
        sms_send(mobile="13800138000", purpose="register", text="hello")
    [row] = SmsMessage.objects.all()
    assert row.status == "FAILED" and "500" in row.error


def test_dev_page_lists_the_latest_messages_unmasked(client):
    sms_send(mobile="13800138000", purpose="register", text="Your code is 654321.", secrets=["654321"])
    sms_send(mobile="13900139000", purpose="login", text="Another 111222.", secrets=["111222"])
    page = client.get("/dev/sms")
    assert page.status_code == 200
    body = page.content.decode()
    assert "13800138000" in body and "Your code is 654321." in body and "Another 111222." in body
    assert body.index("Another 111222.") < body.index("Your code is 654321.")  # newest first
    only = client.get("/dev/sms", {"mobile": "13900139000"}).content.decode()
    assert "Another 111222." in only and "654321" not in only


def test_dev_page_does_not_exist_in_production(client, settings):
    sms_send(mobile="13800138000", purpose="register", text="Your code is 654321.")
    settings.PRODUCTION = True
    page = client.get("/dev/sms")
    assert page.status_code == 404
    assert b"654321" not in page.content


def test_dev_page_does_not_exist_when_a_real_provider_sends(client, settings):
    sms_send(mobile="13800138000", purpose="register", text="Your code is 654321.", secrets=["654321"])
    settings.SMS_BACKEND = "wanxin.notifications.provider.ProviderBackend"
    page = client.get("/dev/sms")
    assert page.status_code == 404
    assert b"654321" not in page.content
