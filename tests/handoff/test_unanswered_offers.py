"""Questions the bot had no answer to reach the editors' list even when the customer
declines the offer of a person (the bot only offered; nothing was escalated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff import unanswered
from handoff.uow import unit_of_work


def say(handoff, cid, auth, text):
    response = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": text}, headers=auth
    )
    assert response.status_code == 200, response.text
    return response.json()


def collected(handoff) -> list[unanswered.Asked]:
    state = handoff.client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        return unanswered.collect(uow.session, since=datetime.now(UTC) - timedelta(days=1))


def test_an_offer_the_customer_declined_still_lists_the_question(handoff):
    cid, auth = handoff.new_conversation()
    say(handoff, cid, auth, "hello")  # answered: not listed
    reply = say(handoff, cid, auth, "do you run llama treks?")
    assert reply["status"] == "bot"  # only offered, not handed off
    assert "unanswered" not in reply["messages"][0]  # internal, never shown to customers
    mine = [a for a in collected(handoff) if a.conversation_id == cid]
    assert [(a.text, a.why) for a in mine] == [("do you run llama treks?", "no_kb_answer")]


def test_a_question_offered_and_then_escalated_is_listed_once(handoff):
    cid, auth = handoff.new_conversation()
    say(handoff, cid, auth, "llama rides for kids?")
    handoff.escalate(
        cid, reason="no_kb_answer", last_message="llama rides for kids?"
    ).raise_for_status()
    mine = [a for a in collected(handoff) if a.conversation_id == cid]
    assert [a.text for a in mine] == ["llama rides for kids?"]
