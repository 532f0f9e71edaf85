"""Customer chat API: storing first, idempotency, bot replies, Rasa down, limits, auth."""

from __future__ import annotations

import uuid

import pytest
from starlette.websockets import WebSocketDisconnect


def test_create_and_chat_with_the_bot(handoff):
    cid, auth = handoff.new_conversation()
    reply = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "can I return boots?"}, headers=auth
    ).json()
    assert reply["status"] == "bot" and reply["handoff"] is None
    [message] = reply["messages"]
    assert message["sender"] == "bot" and "60 days" in message["text"]
    assert message["articles"][0]["slug"] == "return-policy"
    assert message["buttons"] == [{"title": "Yes, thanks", "payload": "/affirm"}]
    call = handoff.rasa.webhook_calls()[-1]["body"]
    assert call["sender"] == cid and call["metadata"]["page"] == "/checkout"

    transcript = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()
    assert [m["sender"] for m in transcript["messages"]] == ["customer", "bot"]


def test_same_client_message_id_is_stored_and_answered_once(handoff):
    cid, auth = handoff.new_conversation()
    body = {"text": "hello there", "client_message_id": "m-1"}
    before = len(handoff.rasa.webhook_calls())
    first = handoff.client.post(
        f"/api/conversations/{cid}/messages", json=body, headers=auth
    ).json()
    again = handoff.client.post(
        f"/api/conversations/{cid}/messages", json=body, headers=auth
    ).json()
    assert first["messages"] == again["messages"]
    assert len(handoff.rasa.webhook_calls()) == before + 1
    transcript = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()["messages"]
    assert [m["text"] for m in transcript].count("hello there") == 1


def test_rasa_down_the_message_is_kept_and_a_person_is_offered(handoff):
    cid, auth = handoff.new_conversation()
    handoff.rasa.up = False
    try:
        reply = handoff.client.post(
            f"/api/conversations/{cid}/messages", json={"text": "where is my order"}, headers=auth
        ).json()
        assert reply["status"] == "bot"
        assert "your message is saved" in reply["messages"][0]["text"]
        assert reply["messages"][0]["buttons"][0]["payload"] == "/request_human"
        # The button works even while Rasa is down.
        reply = handoff.client.post(
            f"/api/conversations/{cid}/messages", json={"text": "/request_human"}, headers=auth
        ).json()
        assert reply["status"] == "queued"
        assert reply["handoff"]["reason"] == "requested" and reply["handoff"]["position"] >= 1
    finally:
        handoff.rasa.up = True
    texts = [
        m["text"]
        for m in handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()["messages"]
    ]
    assert "where is my order" in texts


def test_talk_to_a_person_endpoint_is_always_reachable(handoff):
    handoff.agent("online@example.com")  # signed in just now: counts as online
    cid, auth = handoff.new_conversation()
    reply = handoff.client.post(f"/api/conversations/{cid}/handoff", headers=auth).json()
    assert reply["status"] == "queued" and reply["handoff"]["agents_online"] is True


def test_size_limit_and_empty_messages(handoff):
    cid, auth = handoff.new_conversation()
    too_long = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "x" * 2001}, headers=auth
    )
    assert too_long.status_code == 413 and "2000" in too_long.json()["detail"]
    assert (
        handoff.client.post(
            f"/api/conversations/{cid}/messages", json={"text": ""}, headers=auth
        ).status_code
        == 422
    )
    assert (
        handoff.client.post(f"/api/conversations/{cid}/messages", json={}, headers=auth).status_code
        == 422
    )
    assert handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()["messages"] == []


def test_tokens_never_open_another_conversation(handoff):
    cid_a, auth_a = handoff.new_conversation()
    cid_b, auth_b = handoff.new_conversation()
    assert handoff.client.get(f"/api/conversations/{cid_a}", headers=auth_b).status_code == 401
    assert (
        handoff.client.post(
            f"/api/conversations/{cid_a}/messages", json={"text": "hi"}, headers=auth_b
        ).status_code
        == 401
    )
    assert handoff.client.get(f"/api/conversations/{cid_a}").status_code == 401
    assert (
        handoff.client.get(
            f"/api/conversations/{cid_a}", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    assert (
        handoff.client.get(f"/api/conversations/{uuid.uuid4()}", headers=auth_a).status_code == 401
    )
    assert (
        handoff.client.post(
            f"/api/conversations/{cid_a}/csat", json={"score": 5}, headers=auth_b
        ).status_code
        == 401
    )
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        handoff.client.websocket_connect(f"/api/conversations/{cid_a}/ws") as ws,
    ):
        ws.send_json({"type": "auth", "token": auth_b["Authorization"][7:]})
        ws.receive_json()
    assert closed.value.code == 4401


def test_rate_limit_per_conversation(handoff):
    state = handoff.client.app.state.supportbot
    old = state.handoff.rate_per_conversation
    state.handoff.rate_per_conversation = 3
    try:
        cid, auth = handoff.new_conversation()
        codes = [
            handoff.client.post(
                f"/api/conversations/{cid}/messages", json={"text": f"m{i}"}, headers=auth
            ).status_code
            for i in range(4)
        ]
        assert codes == [200, 200, 200, 429]
    finally:
        state.handoff.rate_per_conversation = old


def test_feedback_on_a_bot_answer(handoff):
    cid, auth = handoff.new_conversation()
    reply = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "return?"}, headers=auth
    ).json()
    mid = reply["messages"][0]["id"]
    offer = handoff.client.post(
        f"/api/conversations/{cid}/feedback",
        json={"message_id": mid, "helpful": False},
        headers=auth,
    )
    assert offer.status_code == 200
    [message] = offer.json()["messages"]
    assert message["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    # Taking the offer escalates with the reason the thumbs-down gave.
    queued = handoff.client.post(f"/api/conversations/{cid}/handoff", headers=auth).json()
    assert queued["status"] == "queued" and queued["handoff"]["reason"] == "negative_feedback"
    missing = handoff.client.post(
        f"/api/conversations/{cid}/feedback",
        json={"message_id": 999999, "helpful": True},
        headers=auth,
    )
    assert missing.status_code == 404


def test_waiting_customers_hear_their_new_place_in_the_queue(handoff):
    ahead, _ = handoff.new_conversation()
    waiting, auth = handoff.new_conversation()
    handoff.escalate(ahead, reason="requested")
    handoff.escalate(waiting, reason="requested")
    agent = handoff.agent("ana@example.com")
    before = handoff.client.get(f"/api/conversations/{waiting}", headers=auth).json()
    place = before["handoff"]["position"]
    assert place >= 2
    with handoff.client.websocket_connect(f"/api/conversations/{waiting}/ws") as ws:
        ws.send_json({"type": "auth", "token": auth["Authorization"][7:]})
        assert ws.receive_json()["type"] == "ready"
        claimed = handoff.client.post(f"/api/handoff/conversations/{ahead}/claim", headers=agent)
        assert claimed.status_code == 200
        event = ws.receive_json()
        assert event["type"] == "queue" and event["position"] == place - 1
        assert event["agents_online"] is True and event["expected_wait_s"] is not None
