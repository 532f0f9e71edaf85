"""Between the processes: Rasa's API, its channel and the action server answer only their
tokens, and the action server is not reachable from outside this machine."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from tests.e2e.services import ACTIONS_TOKEN, RASA_TOKEN, rasa_webhook

pytestmark = pytest.mark.e2e

FORGED_TRACKER = {
    "next_action": "action_handoff",
    "sender_id": "forged",
    "tracker": {
        "sender_id": "forged",
        "slots": {},
        "latest_message": {"text": "x", "intent": {"name": "request_human"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "domain": {},
    "version": "3.6.0",
}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Bearer {RASA_TOKEN}"])
def test_the_action_server_answers_only_rasas_token(stack, header):
    headers = {"Authorization": header} if header else {}
    response = httpx.post(
        f"{stack.actions_url}/webhook", json=FORGED_TRACKER, headers=headers, timeout=30
    )
    assert response.status_code == 401, response.text
    assert "token" in response.json()["error"]


def test_the_action_server_with_rasas_token_runs_actions_and_health_is_open(stack):
    assert httpx.get(f"{stack.actions_url}/health", timeout=10).status_code == 200
    response = httpx.post(
        f"{stack.actions_url}/webhook",
        json={**FORGED_TRACKER, "next_action": "no_such_action"},
        headers={"Authorization": f"Bearer {ACTIONS_TOKEN}"},
        timeout=30,
    )
    # Past the token check: the SDK itself answers (an unknown action is its 404).
    assert response.status_code == 404, response.text


def test_rasas_channel_wants_the_apps_token_and_the_open_rest_channel_is_off(stack):
    sender = f"sec-{uuid.uuid4()}"
    body = {"sender": sender, "message": "hello"}
    for headers in ({}, {"Authorization": "Bearer wrong-token"}):
        response = httpx.post(
            f"{stack.rasa_url}/webhooks/supportbot/webhook", json=body, headers=headers, timeout=30
        )
        assert response.status_code == 401, response.text
    assert httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body).status_code == 404
    ok = rasa_webhook(stack.rasa_url, sender, "hello")
    assert ok.status_code == 200 and "virtual assistant" in ok.json()[0]["text"]


def test_rasas_http_api_wants_the_token(stack):
    sender = f"sec-{uuid.uuid4()}"
    rasa_webhook(stack.rasa_url, sender, "hello").raise_for_status()
    tracker_url = f"{stack.rasa_url}/conversations/{sender}/tracker"
    assert httpx.get(tracker_url, timeout=10).status_code == 401
    assert httpx.get(tracker_url, params={"token": "wrong"}, timeout=10).status_code == 401
    events = f"{stack.rasa_url}/conversations/{sender}/tracker/events"
    assert httpx.post(events, json=[{"event": "pause"}], timeout=10).status_code == 401
    tracker = httpx.get(tracker_url, params={"token": RASA_TOKEN}, timeout=10).json()
    assert tracker["paused"] is False and tracker["sender_id"] == sender


def outside_address() -> str | None:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_and_the_action_server_listen_on_loopback_only(stack):
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    for url in (stack.actions_url, stack.rasa_url):
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=3).close()
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
