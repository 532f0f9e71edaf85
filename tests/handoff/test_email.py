"""Replies to customers who left an email because nobody was online: sent through a real
local SMTP server (aiosmtpd), with a link that reopens the chat on any device."""

from __future__ import annotations

import email
import re
import time

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from handoff.config import HandoffSettings
from handoff.mailer import SmtpSettings, check_resume_key, resume_key
from tests.e2e.services import free_port
from tests.handoff.conftest import ALWAYS_OPEN, SERVICE, FakeRasa

SECRET = "email-test-secret-key-0123456789"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def make_client(tmp_path, smtp_settings: SmtpSettings) -> TestClient:
    settings = Settings(
        var_dir=tmp_path,
        rasa_url="http://rasa.test",
        service_token="test-service-token",
        secret_key=SECRET,
        index_dir=tmp_path.parent / "email-shared-index",
        public_base_url="https://help.northpeak.example",
    )
    handoff = HandoffSettings(business_hours=ALWAYS_OPEN)
    return TestClient(create_app(settings, handoff, smtp_settings))


def offline_conversation(client: TestClient, fake: FakeRasa) -> tuple[str, dict, dict]:
    state = client.app.state.supportbot
    state.rasa.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    conv = client.post("/api/conversations", json={}).json()
    cid, auth = conv["conversation_id"], {"Authorization": f"Bearer {conv['token']}"}
    client.post(f"/api/conversations/{cid}/messages", json={"text": "is my tent back in stock?"},
                headers=auth)  # fmt: skip
    client.post(
        "/api/handoff/escalations",
        json={"conversation_id": cid, "reason": "no_kb_answer"},
        headers=SERVICE,
    ).raise_for_status()
    assert (
        client.post(
            f"/api/conversations/{cid}/email", json={"email": "kim@example.com"}, headers=auth
        ).status_code
        == 204
    )
    from handoff.agents import AgentService
    from handoff.uow import unit_of_work

    with unit_of_work(state.sessions, state.bus) as uow:
        if AgentService(uow.session).by_email("lee@example.com") is None:
            AgentService(uow.session).create(
                email="lee@example.com", name="Lee", role="agent", password="lee-password-1"
            )
    token = client.post(
        "/api/auth/login", json={"email": "lee@example.com", "password": "lee-password-1"}
    ).json()["token"]
    client.cookies.clear()
    agent = {"Authorization": f"Bearer {token}"}
    client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent).raise_for_status()
    return cid, auth, agent


def notes(client: TestClient, cid: str, agent: dict) -> list[str]:
    detail = client.get(f"/api/handoff/conversations/{cid}", headers=agent).json()
    return [m["text"] for m in detail["messages"] if m.get("audience") == "internal"]


def test_reply_is_emailed_with_a_link_that_reopens_the_chat(tmp_path, smtp):
    controller, inbox = smtp
    settings = SmtpSettings(host="127.0.0.1", port=controller.port, security="none")
    with make_client(tmp_path, settings) as client:
        cid, auth, agent = offline_conversation(client, FakeRasa())
        reply = "Good news: the Ridgeline 2 is back in stock <b>today</b>."
        sent = client.post(
            f"/api/handoff/conversations/{cid}/messages", json={"text": reply}, headers=agent
        )
        assert sent.status_code == 201
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [mail] = inbox.messages
        assert mail["To"] == "kim@example.com"
        assert mail["Subject"] == "Re: your question to Northpeak support"
        assert mail.get_content_type() == "text/plain"
        body = mail.get_payload(decode=True).decode()
        assert "Lee from Northpeak support replied" in body and reply in body
        link = re.search(r"https://help\.northpeak\.example/#supportbot-resume=(\S+)", body)
        assert link, body
        conversation_id, _, key = link.group(1).partition(".")
        assert conversation_id == cid

        # On another device: the link's key becomes a working token for this conversation.
        reopened = client.post(f"/api/conversations/{cid}/resume", json={"key": key})
        assert reopened.status_code == 200
        new_auth = {"Authorization": f"Bearer {reopened.json()['token']}"}
        transcript = client.get(f"/api/conversations/{cid}", headers=new_auth).json()
        assert any(m["text"] == reply for m in transcript["messages"])
        # The original device keeps working too.
        assert client.get(f"/api/conversations/{cid}", headers=auth).status_code == 200
        # A key for another conversation, or a forged one, opens nothing.
        forged = client.post(f"/api/conversations/{cid}/resume", json={"key": key[:-2] + "AA"})
        assert forged.status_code == 403
        other = client.post("/api/conversations", json={}).json()["conversation_id"]
        assert (
            client.post(f"/api/conversations/{other}/resume", json={"key": key}).status_code == 403
        )
        assert "Reply emailed to kim@example.com" in notes(client, cid, agent)
        # Internal notes are never emailed.
        client.post(
            f"/api/handoff/conversations/{cid}/messages",
            json={"text": "check the Denver stock too", "internal": True},
            headers=agent,
        )
        time.sleep(0.3)
        assert len(inbox.messages) == 1


def test_unreachable_or_unconfigured_email_is_reported_to_the_agent(tmp_path):
    down = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout_s=2)
    with make_client(tmp_path / "down", down) as client:
        cid, _, agent = offline_conversation(client, FakeRasa())
        client.post(f"/api/handoff/conversations/{cid}/messages", json={"text": "Hi!"},
                    headers=agent)  # fmt: skip
        deadline = time.monotonic() + 10
        while not any("Could not email" in n for n in notes(client, cid, agent)):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with make_client(tmp_path / "off", SmtpSettings(host="")) as client:
        cid, _, agent = offline_conversation(client, FakeRasa())
        client.post(f"/api/handoff/conversations/{cid}/messages", json={"text": "Hi!"},
                    headers=agent)  # fmt: skip
        assert any("email is not configured" in n for n in notes(client, cid, agent))


def test_resume_keys_expire():
    key = resume_key(SECRET, "c-1", now=time.time() - 31 * 86400)
    assert not check_resume_key(SECRET, "c-1", key)
    assert check_resume_key(SECRET, "c-1", resume_key(SECRET, "c-1"))
    assert not check_resume_key("another-secret-0123456789", "c-1", resume_key(SECRET, "c-1"))
    assert not check_resume_key(SECRET, "c-1", "garbage")
