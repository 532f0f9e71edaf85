"""Escalation, queue, claim, replies, notes, release, resolve, return to bot, live events."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from handoff.models import Conversation


def chat(handoff, cid, auth, text):
    return handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": text}, headers=auth
    ).json()


def test_escalation_is_idempotent_and_carries_context(handoff):
    cid, auth = handoff.new_conversation()
    first = handoff.escalate(cid, reason="no_kb_answer")
    again = handoff.escalate(cid, reason="no_kb_answer")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["position"] >= 1 and again.json()["created"] is False
    agent = handoff.agent("ana@example.com")
    detail = handoff.client.get(f"/api/handoff/conversations/{cid}", headers=agent).json()
    assert detail["escalation"]["reason"] == "no_kb_answer"
    assert detail["escalation"]["context"]["nlu_history"][0]["intent"] == "returns_refunds"
    assert detail["escalation"]["context"]["articles_tried"][0]["slug"] == "refund-timing"
    assert [m["text"] for m in detail["messages"]].count(
        "Conversation handed to the support team"
    ) == 1


def test_escalation_needs_the_service_token_and_a_known_conversation(handoff):
    cid, _ = handoff.new_conversation()
    bad = handoff.client.post(
        "/api/handoff/escalations",
        json={"conversation_id": cid, "reason": "requested"},
        headers={"Authorization": "Bearer wrong"},
    )
    assert bad.status_code == 401
    assert handoff.escalate("no-such-conversation").status_code == 404
    assert handoff.escalate(cid, reason="because").status_code == 422


def test_queue_orders_sensitive_topics_first_then_wait(handoff):
    agent = handoff.agent("ana@example.com")
    for cid in [
        c["conversation_id"]
        for c in handoff.client.get("/api/handoff/queue", headers=agent).json()["queued"]
    ]:
        handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
        handoff.client.post(f"/api/handoff/conversations/{cid}/resolve", headers=agent)
    early, _ = handoff.new_conversation()
    late, _ = handoff.new_conversation()
    urgent, _ = handoff.new_conversation()
    handoff.escalate(early)
    handoff.escalate(late)
    handoff.escalate(urgent, reason="sensitive_topic")
    queued = handoff.client.get("/api/handoff/queue", headers=agent).json()["queued"]
    assert [q["conversation_id"] for q in queued] == [urgent, early, late]
    assert queued[0]["priority"] > queued[1]["priority"]
    assert queued[1]["wait_s"] >= 0 and queued[1]["last_customer_message"] is None


def test_full_handoff_lifecycle_with_live_events(handoff):
    cid, auth = handoff.new_conversation()
    chat(handoff, cid, auth, "hello")
    handoff.escalate(cid, reason="requested")
    agent = handoff.agent("ana@example.com")
    calls_before = len(handoff.rasa.webhook_calls())

    with (
        handoff.client.websocket_connect("/api/handoff/ws") as console,
        handoff.client.websocket_connect(f"/api/conversations/{cid}/ws") as widget,
    ):
        console.send_json({"type": "auth", "token": agent["Authorization"][7:]})
        widget.send_json({"type": "auth", "token": auth["Authorization"][7:]})
        assert console.receive_json()["type"] == "ready"
        assert widget.receive_json()["type"] == "ready"

        # Queued: the customer's message reaches the agent console, the bot stays silent.
        reply = chat(handoff, cid, auth, "my order NP-1234567 arrived broken")
        assert reply["status"] == "queued" and reply["messages"] == []
        event = console.receive_json()
        assert (
            event["type"] == "message"
            and event["message"]["text"] == "my order NP-1234567 arrived broken"
        )
        widget.receive_json()  # the widget sees its own message echoed

        claimed = handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
        assert claimed.status_code == 200 and claimed.json()["status"] == "assigned"
        assert widget.receive_json()["message"]["text"] == "Ana joined the conversation"
        status = widget.receive_json()
        assert (status["type"], status["conversation_id"], status["status"]) == (
            "status",
            cid,
            "assigned",
        )
        assert status["handoff"]["agent_name"] == "Ana"

        # Assigned: still no bot; the agent replies and the customer gets it live.
        assert chat(handoff, cid, auth, "hello??")["messages"] == []
        widget.receive_json()
        sent = handoff.client.post(
            f"/api/handoff/conversations/{cid}/messages",
            headers=agent,
            json={
                "text": "Sorry about that! Sending a replacement today.",
                "suggestion": {"source": "kb", "ref": "damaged-item", "action": "edited"},
            },
        )
        assert sent.status_code == 201
        live = widget.receive_json()
        assert live["type"] == "message" and live["message"]["sender"] == "agent"
        assert live["message"]["text"] == "Sorry about that! Sending a replacement today."

        # Internal notes never reach the customer.
        handoff.client.post(
            f"/api/handoff/conversations/{cid}/messages",
            headers=agent,
            json={"text": "check warehouse photos", "internal": True},
        )
        resolved = handoff.client.post(f"/api/handoff/conversations/{cid}/resolve", headers=agent)
        assert resolved.json()["status"] == "resolved"
        events = [widget.receive_json() for _ in range(3)]
        assert events[0]["type"] == "status"
        said = [e["message"]["text"] for e in events if e["type"] == "message"]
        assert "check warehouse photos" not in said and said  # the resolve lines, no note
    assert len(handoff.rasa.webhook_calls()) == calls_before

    transcript = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()
    texts = [m["text"] for m in transcript["messages"]]
    assert "check warehouse photos" not in texts
    assert transcript["messages"][-1]["kind"] == "csat_prompt"
    assert (
        handoff.client.post(
            f"/api/conversations/{cid}/csat", json={"score": 5}, headers=auth
        ).status_code
        == 204
    )
    assert (
        handoff.client.post(
            f"/api/conversations/{cid}/csat", json={"score": 9}, headers=auth
        ).status_code
        == 422
    )
    detail = handoff.client.get(f"/api/handoff/conversations/{cid}", headers=agent).json()
    assert detail["csat_score"] == 5
    assert "check warehouse photos" in [m["text"] for m in detail["messages"]]

    # Writing again after resolution reopens the conversation with the bot (resumed first).
    reply = chat(handoff, cid, auth, "one more thing")
    assert reply["status"] == "bot" and reply["messages"][0]["text"] == "echo: one more thing"
    assert any(c["path"].endswith("/tracker/events") for c in handoff.rasa.calls)


def test_release_and_reassign(handoff):
    cid, _ = handoff.new_conversation()
    handoff.escalate(cid)
    ana, bob = handoff.agent("ana@example.com"), handoff.agent("bob@example.com")
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=ana)
    assert (
        handoff.client.post(
            f"/api/handoff/conversations/{cid}/messages", headers=bob, json={"text": "not mine"}
        ).status_code
        == 409
    )
    assert (
        handoff.client.post(f"/api/handoff/conversations/{cid}/release", headers=ana).json()[
            "status"
        ]
        == "queued"
    )
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=bob)
    bob_id = handoff.client.get("/api/auth/me", headers=bob).json()["id"]
    ana_id = handoff.client.get("/api/auth/me", headers=ana).json()["id"]
    moved = handoff.client.post(
        f"/api/handoff/conversations/{cid}/release", headers=bob, json={"to_agent_id": ana_id}
    )
    assert moved.json()["assigned_agent_id"] == ana_id != bob_id
    assert (
        handoff.client.post(
            f"/api/handoff/conversations/{cid}/messages", headers=ana, json={"text": "I'm here"}
        ).status_code
        == 201
    )


def test_return_to_bot_resumes_rasa_and_the_bot_answers_again(handoff):
    cid, auth = handoff.new_conversation()
    handoff.escalate(cid)
    agent = handoff.agent("ana@example.com")
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
    back = handoff.client.post(
        f"/api/handoff/conversations/{cid}/return-to-bot", headers=agent
    ).json()
    assert back["status"] == "bot" and back["rasa_resumed"] is True
    resume = [c for c in handoff.rasa.calls if c["path"] == f"/conversations/{cid}/tracker/events"]
    assert resume and resume[-1]["body"] == [{"event": "resume"}]
    assert chat(handoff, cid, auth, "hello again")["messages"][0]["text"] == "echo: hello again"
    # A fresh bot session first: Rasa paused inside its handoff action would only listen.
    assert handoff.rasa.texts_sent()[-2:] == ["/session_start", "hello again"]


def test_return_to_bot_commits_before_calling_rasa(handoff):
    # Rasa can take seconds to answer: the hand-back must be committed (no transaction and
    # no lock held) by the time Rasa is called.
    cid, _ = handoff.new_conversation()
    handoff.escalate(cid)
    agent = handoff.agent("ana@example.com")
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
    state = handoff.client.app.state.supportbot
    seen: list[str] = []

    def status_from_another_session(_events: list) -> None:
        with state.sessions() as session:
            seen.append(session.get(Conversation, cid).status)

    handoff.rasa.on_events = status_from_another_session
    try:
        back = handoff.client.post(f"/api/handoff/conversations/{cid}/return-to-bot", headers=agent)
    finally:
        handoff.rasa.on_events = None
    assert back.status_code == 200 and back.json()["rasa_resumed"] is True
    assert seen == ["bot"]


def test_concurrent_claims_exactly_one_wins(handoff):
    agents = [handoff.agent(f"claimer{i}@example.com") for i in range(4)]
    for _ in range(5):
        cid, _ = handoff.new_conversation()
        handoff.escalate(cid)
        url = f"/api/handoff/conversations/{cid}/claim"
        with ThreadPoolExecutor(4) as pool:
            codes = list(
                pool.map(lambda a, url=url: handoff.client.post(url, headers=a).status_code, agents)
            )
        assert sorted(codes) == [200, 409, 409, 409]


def test_no_agent_online_tells_the_customer_and_takes_an_email(handoff):
    state = handoff.client.app.state.supportbot
    old = state.handoff.business_hours
    state.handoff.business_hours = "mon-mon 00:00-00:01"  # effectively closed
    try:
        cid, auth = handoff.new_conversation()
        info = handoff.escalate(cid).json()
        assert info["agents_online"] is False
        reply = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()
        assert reply["status"] == "queued" and reply["handoff"]["agents_online"] is False
        assert reply["handoff"]["expected_wait_s"] is None
        assert (
            handoff.client.post(
                f"/api/conversations/{cid}/email", json={"email": "not-an-email"}, headers=auth
            ).status_code
            == 422
        )
        assert (
            handoff.client.post(
                f"/api/conversations/{cid}/email", json={"email": "kim@example.com"}, headers=auth
            ).status_code
            == 204
        )
        again = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()
        assert again["handoff"]["email_on_file"] is True and again["status"] == "queued"
    finally:
        state.handoff.business_hours = old


def test_agents_online_see_position_and_expected_wait(handoff):
    handoff.agent("ana@example.com")  # logging in marks the agent online
    cid, auth = handoff.new_conversation()
    info = handoff.escalate(cid).json()
    assert info["agents_online"] is True and info["position"] >= 1 and info["expected_wait_s"] >= 0


def test_agent_endpoints_check_login_and_role(handoff):
    cid, auth = handoff.new_conversation()
    handoff.escalate(cid)
    editor = handoff.agent("ed@example.com", role="editor")
    for headers, code in [
        ({}, 401),
        ({"Authorization": "Bearer junk"}, 401),
        (editor, 403),
        (auth, 401),
    ]:
        assert handoff.client.get("/api/handoff/queue", headers=headers).status_code == code
        assert (
            handoff.client.post(
                f"/api/handoff/conversations/{cid}/claim", headers=headers
            ).status_code
            == code
        )
    assert (
        handoff.client.post(
            "/api/auth/login", json={"email": "ana@example.com", "password": "wrong"}
        ).status_code
        == 401
    )


def test_logout_revokes_the_token(handoff):
    agent = handoff.agent("ana@example.com")
    assert handoff.client.post("/api/auth/logout", headers=agent).status_code == 204
    assert handoff.client.get("/api/auth/me", headers=agent).status_code == 401


def test_suggestions_from_kb_and_past_replies(handoff):
    agent = handoff.agent("ana@example.com")
    old, old_auth = handoff.new_conversation()
    chat(handoff, old, old_auth, "my tent pole snapped on the first trip")
    handoff.escalate(old)
    handoff.client.post(f"/api/handoff/conversations/{old}/claim", headers=agent)
    handoff.client.post(
        f"/api/handoff/conversations/{old}/messages",
        headers=agent,
        json={"text": "Our lifetime warranty covers that; send a photo to start a claim."},
    )
    handoff.client.post(f"/api/handoff/conversations/{old}/resolve", headers=agent)

    cid, auth = handoff.new_conversation()
    chat(handoff, cid, auth, "the pole of my tent broke on my first camping trip")
    handoff.escalate(cid)
    result = handoff.client.get(
        f"/api/handoff/conversations/{cid}/suggestions", headers=agent
    ).json()
    sources = [s["source"] for s in result["suggestions"]]
    assert sources[:3] == ["kb", "kb", "kb"]
    past = [s for s in result["suggestions"] if s["source"] == "past_reply"]
    assert (
        past
        and past[0]["text"].startswith("Our lifetime warranty")
        and past[0]["conversation_id"] == old
    )
    assert all(s["score"] > 0 for s in result["suggestions"])
    assert (
        handoff.client.post(
            f"/api/handoff/conversations/{cid}/suggestions/feedback",
            headers=agent,
            json={"source": "kb", "ref": "warranty", "action": "ignored"},
        ).status_code
        == 204
    )


def test_suggestions_answer_the_need_not_the_request_for_a_person(handoff):
    agent = handoff.agent("ana@example.com")
    cid, auth = handoff.new_conversation()
    question = "how long do I have to return boots?"
    chat(handoff, cid, auth, question)
    chat(handoff, cid, auth, "I want to talk to a person")
    handoff.escalate(
        cid,
        nlu_history=[
            {"text": question, "intent": "returns_refunds", "confidence": 0.9},
            {"text": "I want to talk to a person", "intent": "request_human", "confidence": 0.97},
        ],
    )
    result = handoff.client.get(
        f"/api/handoff/conversations/{cid}/suggestions", headers=agent
    ).json()
    assert result["query"] == question
    assert result["suggestions"][0]["ref"] == "return-policy"
    # What the customer tells the agent afterwards is the need now.
    chat(handoff, cid, auth, "actually, when will my refund show up on my card?")
    result = handoff.client.get(
        f"/api/handoff/conversations/{cid}/suggestions", headers=agent
    ).json()
    assert result["suggestions"][0]["ref"] == "refund-timing"


def test_suggestions_look_past_an_angry_message_for_the_need(handoff):
    agent = handoff.agent("ana@example.com")
    cid, auth = handoff.new_conversation()
    question = "when will my refund for the boots show up on my card?"
    angry = "UNBELIEVABLE. a month now and still no money. the boots were returned weeks ago"
    chat(handoff, cid, auth, question)
    chat(handoff, cid, auth, angry)
    history = [
        {"text": question, "intent": "returns_refunds", "confidence": 0.9},
        # NLU read no complaint; the policy's anger words did (bot/policy.yml)
        {"text": angry, "intent": "order_tracking", "confidence": 0.4, "angry": True},
    ]
    handoff.escalate(cid, reason="frustration", nlu_history=history)
    result = handoff.client.get(
        f"/api/handoff/conversations/{cid}/suggestions", headers=agent
    ).json()
    assert result["query"] == question
    # without the policy's reading, the angry message is the latest need
    other, other_auth = handoff.new_conversation()
    chat(handoff, other, other_auth, question)
    chat(handoff, other, other_auth, angry)
    calm = [history[0], {**history[1], "angry": False}]
    handoff.escalate(other, reason="frustration", nlu_history=calm)
    plain = handoff.client.get(
        f"/api/handoff/conversations/{other}/suggestions", headers=agent
    ).json()
    assert plain["query"] != question


def test_a_lost_claim_race_names_the_winner(handoff):
    cid, _ = handoff.new_conversation()
    handoff.escalate(cid)
    ana, bo = handoff.agent("ana@example.com"), handoff.agent("bo@example.com")
    assert (
        handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=ana).status_code
        == 200
    )
    lost = handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=bo)
    assert lost.status_code == 409 and lost.json()["detail"] == "Ana took this conversation"
    again = handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=ana)
    assert again.json()["detail"] == "You already have this conversation"
