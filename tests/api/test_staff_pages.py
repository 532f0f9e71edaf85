"""Staff pages: sign-in forms, roles, CSP, the session cookie, CSRF on sign-out, redirects."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from api.ratelimit import RateLimiter
from handoff.agents import AgentService
from handoff.deps import SESSION_COOKIE
from handoff.uow import unit_of_work

PASSWORD = "page-password-123"


def ensure(client: TestClient, email: str, role: str) -> None:
    state = client.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        if AgentService(uow.session).by_email(email) is None:
            AgentService(uow.session).create(
                email=email, name=email.split("@")[0].title(), role=role, password=PASSWORD
            )


def sign_in(client: TestClient, email: str, next_page: str = "/agent"):
    return client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": next_page},
        follow_redirects=False,
    )


@pytest.mark.parametrize("path", ["/agent", "/editor", "/admin"])
def test_signed_out_pages_are_a_sign_in_form_with_a_strict_csp(client, path):
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200
    assert 'type="password"' in page.text and 'action="/login"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_sign_in_sets_an_httponly_strict_cookie_and_opens_the_page(client):
    ensure(client, "pat@example.com", "agent")
    response = sign_in(client, "pat@example.com")
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/agent")
    assert "Agent console" in page.text and 'name="csrf-token"' in page.text
    assert re.search(r'data-me-name="Pat"', page.text)
    # An agent may not open the admin page.
    forbidden = client.get("/admin")
    assert forbidden.status_code == 403 and "needs the role" in forbidden.text
    client.cookies.clear()


def test_wrong_password_and_foreign_redirects(client):
    ensure(client, "quinn@example.com", "editor")
    wrong = client.post("/login", data={"email": "quinn@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    away = sign_in(client, "quinn@example.com", next_page="https://evil.example/agent")
    assert away.headers["location"] == "/agent"  # never an open redirect
    back = sign_in(client, "quinn@example.com", next_page="/editor?article=rentals")
    assert back.headers["location"] == "/editor?article=rentals"
    client.cookies.clear()


def test_cross_site_sign_in_is_refused(client):
    ensure(client, "rae@example.com", "agent")
    response = client.post(
        "/login",
        data={"email": "rae@example.com", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403 and SESSION_COOKIE not in response.cookies


def test_sign_out_needs_the_page_token(client):
    ensure(client, "sol@example.com", "agent")
    sign_in(client, "sol@example.com")
    page = client.get("/agent").text
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    refused = client.post("/logout", data={"csrf": "0" * 64}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Agent console" in client.get("/agent").text  # still signed in
    done = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    client.cookies.clear()
    assert 'type="password"' in client.get("/agent").text


def test_only_failed_sign_ins_are_rate_limited(tmp_path_factory):
    var = tmp_path_factory.mktemp("limits")
    settings = Settings(var_dir=var, rasa_url="http://127.0.0.1:9")
    with TestClient(create_app(settings)) as client:
        ensure(client, "tess@example.com", "agent")
        for _ in range(12):  # successes never lock anyone out
            assert (
                client.post(
                    "/api/auth/login", json={"email": "tess@example.com", "password": PASSWORD}
                ).status_code
                == 200
            )
        for _ in range(10):
            assert (
                client.post(
                    "/api/auth/login",
                    json={"email": "tess@example.com", "password": "wrong-guess-1"},
                ).status_code
                == 401
            )
        blocked = client.post(
            "/api/auth/login", json={"email": "tess@example.com", "password": PASSWORD}
        )
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        page = client.post("/login", data={"email": "tess@example.com", "password": PASSWORD})
        assert page.status_code == 429


def test_rate_limiter_peeks_without_counting():
    limiter = RateLimiter()
    assert limiter.exceeded("k", 2) == (False, 0.0)
    limiter.allow("k", 2)
    limiter.allow("k", 2)
    over, retry = limiter.exceeded("k", 2)
    assert over and 0 < retry <= 60
    assert limiter.exceeded("k", 3)[0] is False
