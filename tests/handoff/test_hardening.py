"""Races, oversized context, hostile input and misconfiguration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from handoff.agents import AgentService
from handoff.config import HandoffSettings
from handoff.conversations import Conflict, ConversationService
from handoff.events import EventBus
from handoff.uow import unit_of_work


def test_customer_cannot_pick_their_own_intent(handoff):
    cid, auth = handoff.new_conversation()
    handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "/billing_dispute"}, headers=auth
    )
    assert handoff.rasa.webhook_calls()[-1]["body"]["message"] == "billing_dispute"
    handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "/affirm"}, headers=auth
    )
    assert handoff.rasa.webhook_calls()[-1]["body"]["message"] == "/affirm"


def test_rasa_refusing_the_resume_still_gets_an_honest_reply(handoff):
    cid, auth = handoff.new_conversation()
    handoff.escalate(cid)
    agent = handoff.agent("ana@example.com")
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
    handoff.rasa.resume_status = 401
    try:
        back = handoff.client.post(f"/api/handoff/conversations/{cid}/return-to-bot", headers=agent)
        assert back.status_code == 200 and back.json()["rasa_resumed"] is False
        reply = handoff.client.post(
            f"/api/conversations/{cid}/messages", json={"text": "hi again"}, headers=auth
        )
        assert reply.status_code == 200 and reply.json()["messages"][0]["text"] == "echo: hi again"
    finally:
        handoff.rasa.resume_status = 200


def test_long_conversations_can_still_be_escalated(handoff):
    cid, _ = handoff.new_conversation()
    turns = [{"text": f"q{i}", "intent": "store_info", "confidence": 0.5} for i in range(600)]
    response = handoff.escalate(cid, nlu_history=turns, articles_tried=[{"slug": "rentals"}] * 300)
    assert response.status_code == 201
    agent = handoff.agent("ana@example.com")
    context = handoff.client.get(f"/api/handoff/conversations/{cid}", headers=agent).json()[
        "escalation"
    ]["context"]
    assert len(context["nlu_history"]) == 50 and context["nlu_history"][-1]["text"] == "q599"


def test_out_of_range_ids_are_422_not_500(handoff):
    cid, auth = handoff.new_conversation()
    response = handoff.client.post(
        f"/api/conversations/{cid}/feedback",
        json={"message_id": 2**70, "helpful": True},
        headers=auth,
    )
    assert response.status_code == 422


def test_agent_socket_refuses_other_sites(handoff):
    token = handoff.agent("ana@example.com")["Authorization"][7:]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        handoff.client.websocket_connect(
            "/api/handoff/ws", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.send_json({"type": "auth", "token": token})
        ws.receive_json()
    assert closed.value.code == 4401


def test_bad_business_hours_fail_at_startup():
    with pytest.raises(ValidationError, match="mon-fri 08:00-20:00"):
        HandoffSettings(business_hours="weekdays 9 to 5")
    with pytest.raises(ValidationError, match="cross midnight"):
        HandoffSettings(business_hours="mon-sun 22:00-02:00")
    with pytest.raises(ValidationError, match="time zone"):
        HandoffSettings(timezone="Mars/Olympus")


def test_resolve_loses_to_a_claim_that_committed_first(migrated_engine):
    """Agent A read the conversation as queued; agent B claims it; A's resolve must not win."""
    sessions = sessionmaker(migrated_engine, expire_on_commit=False)
    bus, settings = EventBus(), HandoffSettings()
    with unit_of_work(sessions, bus) as uow:
        agents = AgentService(uow.session)
        a = agents.create(
            email="race-a@example.com", name="A", role="agent", password="race-password-a"
        )
        b = agents.create(
            email="race-b@example.com", name="B", role="agent", password="race-password-b"
        )
        service = ConversationService(uow, settings)
        conversation, _ = service.create()
        service.escalate(conversation.id, reason="requested", context={})
        cid = conversation.id
    session_a: Session = sessions()
    try:
        from handoff.uow import UnitOfWork

        service_a = ConversationService(UnitOfWork(session_a), settings)
        stale = service_a.get(cid)
        assert stale.status == "queued"
        with unit_of_work(sessions, bus) as uow:
            ConversationService(uow, settings).claim(cid, agent=b)
        with pytest.raises(Conflict, match="changed meanwhile"):
            service_a.resolve(stale, agent=a)
        session_a.rollback()
    finally:
        session_a.close()
    with unit_of_work(sessions, bus) as uow:
        final = ConversationService(uow, settings).get(cid)
        assert (final.status, final.assigned_agent_id) == ("assigned", b.id)


@pytest.mark.timeout(30)  # a socket that stays open fails here instead of hanging
def test_agent_socket_closes_after_logout(handoff, monkeypatch):
    import handoff.events as events

    monkeypatch.setattr(events, "RECHECK_S", 0.2)
    agent = handoff.agent("ana@example.com")
    with handoff.client.websocket_connect("/api/handoff/ws") as console:
        console.send_json({"type": "auth", "token": agent["Authorization"][7:]})
        assert console.receive_json()["type"] == "ready"
        assert handoff.client.post("/api/auth/logout", headers=agent).status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(100):  # queue events may still arrive before the close
                console.receive_json()
        assert closed.value.code == 4401
