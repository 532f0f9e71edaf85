"""No customer message is left unanswered: a message the bot could not answer (down, or the
process died between storing it and storing the answer) is finished by a retry with the same
client_message_id or by the sweeper, once, and only the newest one."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from handoff.models import Message
from handoff.pending import answer_pending
from handoff.uow import unit_of_work


def sweep(state) -> int:
    """One run of the sweeper's answering step, on its own thread and event loop (another
    test may leave an event loop running on this thread, e.g. Playwright's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, answer_pending(state.chat)).result()


def send(handoff, cid, auth, text, client_message_id=None):
    body = {"text": text}
    if client_message_id:
        body["client_message_id"] = client_message_id
    return handoff.client.post(f"/api/conversations/{cid}/messages", json=body, headers=auth)


def bot_state(handoff, cid, text) -> str | None:
    state = handoff.client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        message = uow.session.query(Message).filter_by(conversation_id=cid, text=text).one()
        return message.bot_state


def age(handoff, cid, seconds: int) -> None:
    """As if the bot had last been asked ``seconds`` ago."""
    state = handoff.client.app.state.supportbot
    asked = (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()
    with unit_of_work(state.sessions, state.bus) as uow:
        for message in uow.session.query(Message).filter_by(conversation_id=cid):
            if message.bot_state:
                message.data = {**(message.data or {}), "bot_asked_at": asked}


def test_a_retry_after_the_bot_was_down_gets_the_answer(handoff):
    cid, auth = handoff.new_conversation()
    handoff.rasa.up = False
    try:
        first = send(handoff, cid, auth, "hello there", "m1").json()
    finally:
        handoff.rasa.up = True
    assert first["messages"][0]["kind"] == "bot_unavailable"
    assert bot_state(handoff, cid, "hello there") == "failed"
    again = send(handoff, cid, auth, "hello there", "m1").json()
    texts = [m["text"] for m in again["messages"]]
    assert texts[-1] == "echo: hello there" and len(texts) == 2  # the notice, then the answer
    assert bot_state(handoff, cid, "hello there") == "answered"
    # A third retry replays the same answer; the bot is not asked again.
    calls = len(handoff.rasa.webhook_calls())
    assert send(handoff, cid, auth, "hello there", "m1").json()["messages"] == again["messages"]
    assert len(handoff.rasa.webhook_calls()) == calls


def test_a_message_stored_by_a_process_that_died_is_finished_by_a_retry(handoff):
    cid, auth = handoff.new_conversation()
    state = handoff.client.app.state.supportbot
    # What a crash after the first transaction leaves: the message stored, pending, no reply.
    with unit_of_work(state.sessions, state.bus) as uow:
        message = Message(
            conversation_id=cid, sender="customer", text="lost in a crash", client_message_id="c9"
        )
        message.bot_state = "pending"
        uow.session.add(message)
    # Within the in-flight window a retry does not ask the bot twice ...
    assert send(handoff, cid, auth, "lost in a crash", "c9").json()["messages"] == []
    age(handoff, cid, 120)
    # ... after it, the retry finishes the turn.
    reply = send(handoff, cid, auth, "lost in a crash", "c9").json()
    assert [m["text"] for m in reply["messages"]] == ["echo: lost in a crash"]


def test_the_sweeper_answers_what_waited_and_only_the_newest_message(handoff):
    cid, auth = handoff.new_conversation()
    handoff.rasa.up = False
    try:
        send(handoff, cid, auth, "first try")
        send(handoff, cid, auth, "second try")
        assert bot_state(handoff, cid, "first try") == "superseded"
        assert bot_state(handoff, cid, "second try") == "failed"
        notices = [
            m for m in handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()[
                "messages"] if m.get("kind") == "bot_unavailable"
        ]  # fmt: skip
        assert len(notices) == 2
        state = handoff.client.app.state.supportbot
        # The bot still down: the sweep tries, says nothing new, keeps the message waiting.
        assert sweep(state) == 0
        assert bot_state(handoff, cid, "second try") == "failed"
    finally:
        handoff.rasa.up = True
    calls_before = handoff.rasa.texts_sent()
    assert sweep(state) >= 1
    sent_now = handoff.rasa.texts_sent()[len(calls_before) :]
    assert "second try" in sent_now and "first try" not in sent_now
    transcript = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()["messages"]
    assert [m["text"] for m in transcript].count("echo: second try") == 1
    assert [m.get("kind") for m in transcript].count("bot_unavailable") == 2  # no new notice
    assert bot_state(handoff, cid, "second try") == "answered"
    assert sweep(state) == 0  # nothing twice


def test_a_handoff_takes_waiting_messages_away_from_the_sweeper(handoff):
    cid, auth = handoff.new_conversation()
    handoff.rasa.up = False
    try:
        send(handoff, cid, auth, "anyone there")
    finally:
        handoff.rasa.up = True
    assert bot_state(handoff, cid, "anyone there") == "failed"
    handoff.escalate(cid)
    assert bot_state(handoff, cid, "anyone there") == "superseded"
    state = handoff.client.app.state.supportbot
    assert sweep(state) == 0


def test_a_bot_that_says_nothing_is_not_an_answer(handoff):
    # Rasa answers 200 with no messages when its action server is down.
    cid, auth = handoff.new_conversation()
    reply = send(handoff, cid, auth, "is the action server down?", "s1").json()
    assert [m.get("kind") for m in reply["messages"]] == ["bot_unavailable"]
    assert bot_state(handoff, cid, "is the action server down?") == "failed"


def test_a_bot_that_keeps_saying_nothing_is_asked_at_most_five_times(handoff):
    cid, auth = handoff.new_conversation()
    text = "the action server down again"
    send(handoff, cid, auth, text)
    state = handoff.client.app.state.supportbot
    for _ in range(6):
        sweep(state)
    assert handoff.rasa.texts_sent().count(text) == 5
    assert bot_state(handoff, cid, text) == "failed"


def test_asks_that_never_reached_the_bot_do_not_use_up_the_message(handoff):
    cid, auth = handoff.new_conversation()
    handoff.rasa.up = False
    state = handoff.client.app.state.supportbot
    try:
        send(handoff, cid, auth, "are you there")
        for _ in range(8):  # a long outage: many sweeps, none reaches Rasa
            sweep(state)
    finally:
        handoff.rasa.up = True
    assert sweep(state) == 1
    assert bot_state(handoff, cid, "are you there") == "answered"
