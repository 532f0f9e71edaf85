"""Team admin (accounts, roles, disabling, password resets), the console's session cookie and
its CSRF protection, and the inbox views."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from handoff.agents import AgentError, AgentService
from handoff.deps import SESSION_COOKIE, csrf_token


def admin_headers(handoff) -> dict:
    return handoff.agent("root@example.com", role="admin")


def test_admin_creates_renames_and_changes_roles(handoff):
    admin = admin_headers(handoff)
    created = handoff.client.post(
        "/api/admin/agents",
        headers=admin,
        json={
            "email": "new@example.com",
            "name": "Nia",
            "role": "agent",
            "password": "nia-password-1",
        },
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert (account["role"], account["is_active"]) == ("agent", True)
    again = handoff.client.post(
        "/api/admin/agents",
        headers=admin,
        json={
            "email": "NEW@example.com",
            "name": "Nia",
            "role": "agent",
            "password": "nia-password-1",
        },
    )
    assert again.status_code == 409
    updated = handoff.client.patch(
        f"/api/admin/agents/{account['id']}",
        headers=admin,
        json={"name": "Nia K", "role": "editor"},
    ).json()
    assert (updated["name"], updated["role"]) == ("Nia K", "editor")
    assert (
        handoff.client.patch("/api/admin/agents/999999", headers=admin, json={}).status_code == 404
    )


def test_only_admins_manage_the_team(handoff):
    agent = handoff.agent("ana@example.com")
    assert handoff.client.get("/api/admin/agents", headers=agent).status_code == 403
    assert handoff.client.get("/api/admin/agents").status_code == 401


def test_disabling_ends_sessions_and_closes_the_console_at_once(handoff):
    admin = admin_headers(handoff)
    victim = handoff.agent("gone@example.com")
    token = victim["Authorization"][7:]
    accounts = handoff.client.get("/api/admin/agents", headers=admin).json()
    victim_id = next(a["id"] for a in accounts if a["email"] == "gone@example.com")
    with handoff.client.websocket_connect("/api/handoff/ws") as console:
        console.send_json({"type": "auth", "token": token})
        assert console.receive_json()["type"] == "ready"
        response = handoff.client.patch(
            f"/api/admin/agents/{victim_id}", headers=admin, json={"is_active": False}
        )
        assert response.status_code == 200 and response.json()["is_active"] is False
        with pytest.raises(WebSocketDisconnect) as closed:
            console.receive_json()  # the revocation event closes it; no 10 s re-check needed
        assert closed.value.code == 4401
    assert handoff.client.get("/api/handoff/queue", headers=victim).status_code == 401
    login = {"email": "gone@example.com", "password": "s3cret-password"}
    assert handoff.client.post("/api/auth/login", json=login).status_code == 401
    handoff.client.patch(f"/api/admin/agents/{victim_id}", headers=admin, json={"is_active": True})
    assert handoff.client.post("/api/auth/login", json=login).status_code == 200
    handoff.client.cookies.clear()


def test_password_reset_ends_sessions_and_the_new_password_works(handoff):
    admin = admin_headers(handoff)
    victim = handoff.agent("reset@example.com")
    accounts = handoff.client.get("/api/admin/agents", headers=admin).json()
    victim_id = next(a["id"] for a in accounts if a["email"] == "reset@example.com")
    short = handoff.client.post(
        f"/api/admin/agents/{victim_id}/password", headers=admin, json={"password": "short"}
    )
    assert short.status_code == 422
    assert (
        handoff.client.post(
            f"/api/admin/agents/{victim_id}/password",
            headers=admin,
            json={"password": "brand-new-password"},
        ).status_code
        == 204
    )
    assert handoff.client.get("/api/handoff/queue", headers=victim).status_code == 401
    login = handoff.client.post(
        "/api/auth/login", json={"email": "reset@example.com", "password": "brand-new-password"}
    )
    assert login.status_code == 200
    handoff.client.cookies.clear()


def test_the_last_admin_cannot_be_disabled_or_demoted(session):
    agents = AgentService(session)
    only = agents.create(
        email="solo@example.com", name="Solo", role="admin", password="solo-pass-123"
    )
    for change in (lambda: agents.set_active(only, False), lambda: agents.set_role(only, "agent")):
        with pytest.raises(AgentError, match="at least one active admin"):
            change()
    second = agents.create(
        email="duo@example.com", name="Duo", role="admin", password="duo-pass-1234"
    )
    agents.set_role(only, "agent")  # fine once another admin is active
    assert (only.role, second.role) == ("agent", "admin")


def _cookie_session(handoff, email: str, role: str = "agent") -> str:
    handoff.agent(email, role=role)  # creates the account
    response = handoff.client.post(
        "/api/auth/login", json={"email": email, "password": "s3cret-password"}
    )
    token = response.cookies.get(SESSION_COOKIE)
    handoff.client.cookies.clear()
    return token


def test_cookie_requests_that_change_state_need_the_csrf_token(handoff):
    cid, _ = handoff.new_conversation()
    handoff.escalate(cid)
    session = _cookie_session(handoff, "cookie@example.com")
    secret = handoff.client.app.state.supportbot.settings.secret_key
    jar = {SESSION_COOKIE: session}
    client = handoff.client
    # Reading works with the cookie alone.
    client.cookies.update(jar)
    try:
        assert client.get("/api/handoff/queue").status_code == 200
        missing = client.post(f"/api/handoff/conversations/{cid}/claim")
        assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
        wrong = client.post(
            f"/api/handoff/conversations/{cid}/claim", headers={"X-CSRF-Token": "0" * 64}
        )
        assert wrong.status_code == 403
        other_site = client.post(
            f"/api/handoff/conversations/{cid}/claim",
            headers={
                "X-CSRF-Token": csrf_token(secret, session),
                "Origin": "https://evil.example",
            },
        )
        assert other_site.status_code == 403 and "cross-site" in other_site.json()["detail"]
        ok = client.post(
            f"/api/handoff/conversations/{cid}/claim",
            headers={"X-CSRF-Token": csrf_token(secret, session)},
        )
        assert ok.status_code == 200
    finally:
        client.cookies.clear()


def test_inbox_views_and_search(handoff):
    agent = handoff.agent("inbox@example.com")
    cid, auth = handoff.new_conversation()
    handoff.client.post(
        f"/api/conversations/{cid}/messages",
        json={"text": "my zebra-striped tent arrived torn"},
        headers=auth,
    )
    handoff.escalate(cid)
    handoff.client.post(f"/api/handoff/conversations/{cid}/claim", headers=agent)
    mine = handoff.client.get("/api/handoff/conversations?view=mine", headers=agent).json()
    assert [c["conversation_id"] for c in mine["conversations"]] == [cid]
    found = handoff.client.get(
        "/api/handoff/conversations", params={"view": "all", "q": "ZEBRA-striped"}, headers=agent
    ).json()["conversations"]
    assert [c["conversation_id"] for c in found] == [cid]
    assert found[0]["assigned_agent_name"] == "Inbox"
    nothing = handoff.client.get(
        "/api/handoff/conversations", params={"view": "all", "q": "100%_"}, headers=agent
    ).json()["conversations"]
    assert nothing == []
    page = handoff.client.get(
        "/api/handoff/conversations", params={"view": "all", "limit": 1}, headers=agent
    ).json()
    assert len(page["conversations"]) == 1 and page["next_before"]
    second = handoff.client.get(
        "/api/handoff/conversations",
        params={"view": "all", "limit": 1, "before": page["next_before"]},
        headers=agent,
    ).json()["conversations"]
    assert second and second[0]["conversation_id"] != page["conversations"][0]["conversation_id"]
    colleagues = handoff.client.get("/api/handoff/agents", headers=agent).json()
    assert any(c["name"] == "Inbox" and c["online"] for c in colleagues)
