"""End-to-end through the app's public API, against the real Rasa server, action server and
app: the bot answers from the help center, the customer asks for a person, an agent claims
and replies, the customer receives it live, the agent resolves, the customer rates it."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.services import rasa_tracker

pytestmark = pytest.mark.e2e


@pytest.fixture
def app(stack):
    with httpx.Client(base_url=stack.app_url, timeout=30) as client:
        yield client


def test_customer_to_agent_and_back(stack, app, maya):
    agent = maya.headers

    conv = app.post("/api/conversations", json={"metadata": {"page": "/orders"}}).json()
    cid, customer = conv["conversation_id"], {"Authorization": f"Bearer {conv['token']}"}

    answer = app.post(
        f"/api/conversations/{cid}/messages",
        headers=customer,
        json={"text": "how many days do I have to return something?", "client_message_id": "c1"},
    ).json()
    assert answer["status"] == "bot"
    assert "60 days" in answer["messages"][0]["text"]
    assert answer["messages"][0]["articles"][0]["url"].startswith(stack.app_url + "/help/")

    handoff = app.post(
        f"/api/conversations/{cid}/messages",
        headers=customer,
        json={"text": "I want to talk to a real person please", "client_message_id": "c2"},
    ).json()
    assert handoff["status"] == "queued"
    assert handoff["handoff"]["reason"] == "requested"
    # Other tests share this stack's queue: the place is whatever the queue says it is.
    queue = app.get("/api/handoff/queue", headers=agent).json()["queued"]
    place = [q["conversation_id"] for q in queue].index(cid) + 1
    assert handoff["handoff"]["position"] == place and handoff["handoff"]["agents_online"] is True
    assert f"number {place} in the queue" in handoff["messages"][0]["text"]
    tracker = rasa_tracker(stack.rasa_url, cid)
    assert tracker["paused"] is True

    mine = next(q for q in queue if q["conversation_id"] == cid)
    assert mine["reason"] == "requested"
    detail = app.get(f"/api/handoff/conversations/{cid}", headers=agent).json()
    history = detail["escalation"]["context"]["nlu_history"]
    assert [t["intent"] for t in history] == ["returns_refunds", "request_human"]
    assert detail["escalation"]["context"]["articles_tried"][0]["shown"] is True
    suggestions = app.get(f"/api/handoff/conversations/{cid}/suggestions", headers=agent).json()[
        "suggestions"
    ]
    assert suggestions and suggestions[0]["source"] == "kb"

    ws_url = stack.app_url.replace("http", "ws") + f"/api/conversations/{cid}/ws"
    with connect(ws_url, open_timeout=10) as widget:
        widget.send(json.dumps({"type": "auth", "token": conv["token"]}))
        assert json.loads(widget.recv(timeout=10))["type"] == "ready"
        assert app.post(f"/api/handoff/conversations/{cid}/claim", headers=agent).status_code == 200
        # While a person owns the conversation the bot stays silent.
        quiet = app.post(
            f"/api/conversations/{cid}/messages", headers=customer, json={"text": "hello?"}
        ).json()
        assert quiet["messages"] == [] and quiet["status"] == "assigned"
        app.post(
            f"/api/handoff/conversations/{cid}/messages",
            headers=agent,
            json={"text": "Hi, I'm Maya. Which item would you like to return?"},
        )
        received = []
        while not any(e.get("message", {}).get("sender") == "agent" for e in received):
            received.append(json.loads(widget.recv(timeout=10)))
        assert (
            received[-1]["message"]["text"] == "Hi, I'm Maya. Which item would you like to return?"
        )

    assert (
        app.post(f"/api/handoff/conversations/{cid}/resolve", headers=agent).json()["status"]
        == "resolved"
    )
    assert (
        app.post(f"/api/conversations/{cid}/csat", headers=customer, json={"score": 5}).status_code
        == 204
    )
    transcript = app.get(f"/api/conversations/{cid}", headers=customer).json()
    senders = [m["sender"] for m in transcript["messages"]]
    assert (
        senders.count("customer") == 3 and "agent" in senders and transcript["status"] == "resolved"
    )

    # Retrying the first message returns the original answer, stored once.
    again = app.post(
        f"/api/conversations/{cid}/messages",
        headers=customer,
        json={"text": "how many days do I have to return something?", "client_message_id": "c1"},
    ).json()
    assert again["messages"][0]["text"] == answer["messages"][0]["text"]


def test_the_bot_answers_the_first_message_after_a_person_hands_it_back(stack, app, maya):
    # The bot escalated (its handoff action paused Rasa); after the agent hands the
    # conversation back, the very next question gets an answer, not silence or a notice.
    conv = app.post("/api/conversations", json={"metadata": {}}).json()
    cid, customer = conv["conversation_id"], {"Authorization": f"Bearer {conv['token']}"}

    def say(text: str, mid: str) -> dict:
        return app.post(
            f"/api/conversations/{cid}/messages",
            headers=customer,
            json={"text": text, "client_message_id": mid},
        ).json()

    assert say("I want to talk to a real person please", "h1")["status"] == "queued"
    assert app.post(f"/api/handoff/conversations/{cid}/claim", headers=maya.headers).is_success
    back = app.post(f"/api/handoff/conversations/{cid}/return-to-bot", headers=maya.headers)
    assert back.json()["status"] == "bot"
    reply = say("how many days do I have to return something?", "h2")
    assert reply["status"] == "bot"
    assert [m.get("kind") for m in reply["messages"]].count("bot_unavailable") == 0
    assert "60 days" in reply["messages"][0]["text"]
