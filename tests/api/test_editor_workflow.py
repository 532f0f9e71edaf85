"""Editor accounts, revisions (content, diff, restore), unpublish, preview, questions an
article answers, and the unanswered-questions list built from real escalations."""

from __future__ import annotations

import uuid

import pytest

from handoff.agents import AgentService
from handoff.uow import unit_of_work

TOKEN = {"Authorization": "Bearer dev-editor-token"}
SERVICE = {"Authorization": "Bearer dev-service-token"}


def account(client, email: str, role: str) -> dict:
    state = client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        if AgentService(uow.session).by_email(email) is None:
            AgentService(uow.session).create(
                email=email, name=email.split("@")[0].title(), role=role, password="pass-word-123"
            )
    token = client.post(
        "/api/auth/login", json={"email": email, "password": "pass-word-123"}
    ).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def slug() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def test_editors_sign_in_and_revisions_record_their_names(client):
    erin = account(client, "erin@example.com", "editor")
    agent = account(client, "andy@example.com", "agent")
    s = slug()
    payload = {
        "slug": s,
        "title": "Snow tires",
        "body": "## Fitting\nWe fit snow tires.",
        "category": "T",
    }
    assert client.post("/api/kb/articles", json=payload, headers=agent).status_code == 403
    created = client.post("/api/kb/articles", json=payload, headers=erin)
    assert created.status_code == 201 and created.json()["author"] == "Erin"
    client.put(f"/api/kb/articles/{s}", json={"title": "Snow tyres"}, headers=TOKEN)
    revisions = client.get(f"/api/kb/articles/{s}/revisions", headers=erin).json()
    assert [r["author"] for r in revisions] == ["automation (editor token)", "Erin"]


def test_diff_restore_and_unpublish(client):
    s = slug()
    client.post(
        "/api/kb/articles",
        json={
            "slug": s,
            "title": "Llama trek hire",
            "body": "## Price\nLlama treks cost $40 a day.",
        },
        headers=TOKEN,
    )
    client.put(
        f"/api/kb/articles/{s}",
        json={"body": "## Price\nLlama treks cost $45 a day."},
        headers=TOKEN,
    )
    diff = client.get(f"/api/kb/articles/{s}/diff?from=1&to=2", headers=TOKEN).json()
    assert {"op": "del", "text": "Llama treks cost $40 a day."} in diff["body"]
    assert {"op": "add", "text": "Llama treks cost $45 a day."} in diff["body"]
    first = client.get(f"/api/kb/articles/{s}/revisions/1", headers=TOKEN).json()
    assert "$40" in first["body"] and first["author"] == "automation (editor token)"
    restored = client.post(f"/api/kb/articles/{s}/revisions/1/restore", headers=TOKEN).json()
    assert restored["revision"] == 3 and "$40" in restored["body"]
    assert client.get(f"/api/kb/articles/{s}/revisions/9", headers=TOKEN).status_code == 404

    client.post(f"/api/kb/articles/{s}/publish", headers=TOKEN).raise_for_status()
    assert client.get(f"/help/{s}").status_code == 200
    hits = client.get(
        "/api/kb/search", params={"q": "how much does a llama trek cost per day"}
    ).json()
    assert hits["results"][0]["slug"] == s
    unpublished = client.post(f"/api/kb/articles/{s}/unpublish", headers=TOKEN).json()
    assert unpublished["status"] == "draft"
    assert client.get(f"/help/{s}").status_code == 404
    hits = client.get(
        "/api/kb/search", params={"q": "how much does a llama trek cost per day"}
    ).json()
    assert s not in [r["slug"] for r in hits["results"]]


def test_preview_is_sanitised(client):
    html = client.post(
        "/api/kb/preview",
        json={"body": "## Hi\n<script>alert(1)</script>[x](javascript:alert(2)) **ok**"},
        headers=TOKEN,
    ).json()["html"]
    assert "<h2>Hi</h2>" in html and "<strong>ok</strong>" in html
    assert "<script" not in html.lower() and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text


def test_questions_an_article_answers_are_searched(client):
    s = slug()
    question = "can my dog come along on a guided canoe day"
    client.post(
        "/api/kb/articles",
        json={
            "slug": s,
            "title": "Canoe days",
            "body": "## Canoe days\nWe run canoe days in June.",
        },
        headers=TOKEN,
    )
    client.post(f"/api/kb/articles/{s}/publish", headers=TOKEN).raise_for_status()
    before = client.get("/api/kb/search", params={"q": question, "k": 1}).json()["results"][0]
    client.put(f"/api/kb/articles/{s}", json={"questions": [question]}, headers=TOKEN)
    client.post(f"/api/kb/articles/{s}/publish", headers=TOKEN).raise_for_status()
    after = client.get("/api/kb/search", params={"q": question, "k": 1}).json()["results"][0]
    assert after["slug"] == s and after["score"] > before["score"]
    # The snippet quotes the article, not the stored question.
    assert after["snippet"] == "We run canoe days in June." and after["section"] == "Canoe days"


def escalate_unanswered(client, text: str, reason: str = "no_kb_answer") -> str:
    conv = client.post("/api/conversations", json={}).json()
    cid, auth = conv["conversation_id"], {"Authorization": f"Bearer {conv['token']}"}
    client.post(f"/api/conversations/{cid}/messages", json={"text": text}, headers=auth)
    client.post(
        "/api/handoff/escalations",
        json={"conversation_id": cid, "reason": reason, "last_message": text},
        headers=SERVICE,
    ).raise_for_status()
    return cid


@pytest.fixture(scope="module")
def asked(client):
    questions = [
        "do you sell bear spray?",
        "can I buy bear spray from northpeak",
        "<img src=x onerror=alert(1)> where is the llama yoga class",
    ]
    for text in questions:
        escalate_unanswered(client, text)
    return questions


def groups(client) -> list[dict]:
    return client.get("/api/kb/unanswered", headers=TOKEN).json()["groups"]


def test_unanswered_questions_are_grouped_by_similarity(client, asked):
    found = groups(client)
    texts = [[q["text"] for q in g["questions"]] for g in found]
    bear = next(t for t in texts if "do you sell bear spray?" in t)
    assert sorted(bear) == sorted(asked[:2])
    assert [asked[2]] in texts
    assert found[0]["count"] >= 2  # the most asked first


def test_attaching_a_group_makes_search_find_the_article(client, asked):
    bear = next(g for g in groups(client) if g["questions"][0]["text"] in asked[:2])
    ids = [q["message_id"] for q in bear["questions"]]
    result = client.post(
        "/api/kb/unanswered/attach",
        json={"message_ids": ids, "slug": "product-availability"},
        headers=TOKEN,
    ).json()
    assert result["published"] is True
    assert set(asked[:2]) <= set(result["article"]["questions"])
    for text in asked[:2]:
        found = client.get("/api/kb/search", params={"q": text, "k": 1}).json()
        top = found["results"][0]
        # Now the bot answers it: the right article, above the answer threshold.
        assert top["slug"] == "product-availability" and top["score"] >= found["threshold"]
    remaining = [q["text"] for g in groups(client) for q in g["questions"]]
    assert not set(asked[:2]) & set(remaining)


def test_a_group_becomes_a_draft_or_is_dismissed(client):
    cid = escalate_unanswered(client, "do you rent out campervans for road trips")
    group = next(g for g in groups(client) if g["questions"][0]["conversation_id"] == cid)
    ids = [q["message_id"] for q in group["questions"]]
    s = slug()
    draft = client.post(
        "/api/kb/unanswered/draft",
        json={"message_ids": ids, "slug": s, "title": "Campervan rentals"},
        headers=TOKEN,
    )
    assert draft.status_code == 201
    assert draft.json()["status"] == "draft"
    assert draft.json()["questions"] == ["do you rent out campervans for road trips"]
    cid = escalate_unanswered(client, "asdf qwer zxcv", reason="low_confidence")
    group = next(g for g in groups(client) if g["questions"][0]["conversation_id"] == cid)
    ids = [q["message_id"] for q in group["questions"]]
    assert (
        client.post(
            "/api/kb/unanswered/dismiss", json={"message_ids": ids}, headers=TOKEN
        ).status_code
        == 204
    )
    assert all(g["questions"][0]["conversation_id"] != cid for g in groups(client))
    bad = client.post("/api/kb/unanswered/dismiss", json={"message_ids": [2**40]}, headers=TOKEN)
    assert bad.status_code == 422
