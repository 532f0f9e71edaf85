"""Conversations the bot handled end as resolved_by_bot (by the customer's thanks, or idle),
can be rated, and reopen as a fresh bot session; an email typed while nobody is online is
captured; a thumbs-down offer is known to the bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from handoff.idle import close_idle
from handoff.models import Conversation
from handoff.uow import unit_of_work


def chat(handoff, cid, auth, text, **extra):
    response = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": text, **extra}, headers=auth
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_thanks_after_an_answer_resolves_and_a_new_message_starts_a_fresh_session(handoff):
    cid, auth = handoff.new_conversation()
    chat(handoff, cid, auth, "can I return boots?")
    ended = chat(handoff, cid, auth, "thanks, that's all")
    assert ended["status"] == "resolved_by_bot"
    kinds = [m.get("kind") for m in ended["messages"]]
    assert "csat_prompt" in kinds and ended["messages"][0]["text"] == "You're welcome!"
    rated = handoff.client.post(f"/api/conversations/{cid}/csat", json={"score": 4}, headers=auth)
    assert rated.status_code == 204

    before = len(handoff.rasa.texts_sent())
    again = chat(handoff, cid, auth, "one more thing: can I return a jacket?")
    assert again["status"] == "bot"
    # The bot got a fresh session first, then the question.
    assert handoff.rasa.texts_sent()[before:] == [
        "/session_start",
        "one more thing: can I return a jacket?",
    ]
    chat(handoff, cid, auth, "and boots?")
    assert handoff.rasa.texts_sent()[-1] == "and boots?"  # only once per reopening


def test_answered_conversations_that_go_quiet_are_resolved_by_the_bot(handoff):
    answered, auth = handoff.new_conversation()
    chat(handoff, answered, auth, "can I return boots?")
    never_answered, auth2 = handoff.new_conversation()
    chat(handoff, never_answered, auth2, "hello there")
    state = handoff.client.app.state.supportbot
    long_ago = datetime.now(UTC) - timedelta(minutes=state.handoff.bot_idle_minutes + 5)
    with unit_of_work(state.sessions, state.bus) as uow:
        uow.session.execute(
            update(Conversation)
            .where(Conversation.id.in_([answered, never_answered]))
            .values(updated_at=long_ago)
        )
    assert close_idle(state.sessions, state.bus, state.handoff) >= 1
    statuses = {
        cid: handoff.client.get(f"/api/conversations/{cid}", headers=a).json()["status"]
        for cid, a in ((answered, auth), (never_answered, auth2))
    }
    assert statuses == {answered: "resolved_by_bot", never_answered: "bot"}
    assert close_idle(state.sessions, state.bus, state.handoff) == 0  # nothing twice


def test_an_email_typed_while_nobody_is_online_is_captured(handoff):
    state = handoff.client.app.state.supportbot
    cid, auth = handoff.new_conversation()
    handoff.escalate(cid)
    original = state.handoff.business_hours
    state.handoff.business_hours = "mon-mon 00:00-00:01"  # closed now (nearly always)
    try:
        reply = chat(handoff, cid, auth, "sure, it's kim.lee+np@example.com thanks")
    finally:
        state.handoff.business_hours = original
    assert reply["messages"][0]["text"] == (
        "Thanks! We'll reply to kim.lee+np@example.com as soon as we're back."
    )
    assert reply["handoff"]["email_on_file"] is True
    agent = handoff.agent("ana@example.com")
    detail = handoff.client.get(f"/api/handoff/conversations/{cid}", headers=agent).json()
    assert detail["customer_email"] == "kim.lee+np@example.com"
    # Once on file, later addresses in messages are not taken as a new one.
    state.handoff.business_hours = "mon-mon 00:00-00:01"
    try:
        later = chat(handoff, cid, auth, "or use other@example.com")
    finally:
        state.handoff.business_hours = original
    assert later["messages"] == []


def test_a_thumbs_down_offer_is_known_to_the_bot(handoff):
    cid, auth = handoff.new_conversation()
    answer = chat(handoff, cid, auth, "can I return boots?")["messages"][0]
    response = handoff.client.post(
        f"/api/conversations/{cid}/feedback",
        json={"message_id": answer["id"], "helpful": False},
        headers=auth,
    )
    assert response.json()["messages"][0]["kind"] == "handoff_offer"
    slot_events = [c["body"] for c in handoff.rasa.calls if c["path"].endswith("/tracker/events")]
    assert slot_events[-1] == [
        {"event": "slot", "name": "bot_move", "value": "offer:negative_feedback"}
    ]
