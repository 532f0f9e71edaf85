"""Auth matrix: every route of the app x every kind of caller, with the expected outcome.

The routes are read from the app itself (``app.routes``: API routes, WebSocket routes, the
docs routes and mounted ASGI apps such as socket.io), so a route added without an entry in
``ACCESS`` fails ``test_every_route_has_an_expected_access`` (and its matrix cases) with a
message naming it. Each entry names an access level; the level says, for every principal,
whether the request must get through authentication and authorization or be refused.

Outcomes:

* allowed: not 401/403. The request carries a minimal valid body and points at a real
  conversation/article/account set up for the case, so an allowed request really runs; a
  404/409/422 from the handler is still "allowed" (it passed the checks).
* denied: 401 or 403. The customer of *another* conversation must also get 401/403 on the
  customer routes (not 404): ``ConversationService.authorize`` refuses an unknown id and a
  wrong token alike with 401, so a 404 could only come from a handler that already let the
  caller in and then failed to find something, which would hide a hole.
* another agent on actions reserved to the agent holding the conversation (reply, release,
  resolve, return to bot): 403 or 409. The app answers 409 "assigned to another agent" (the
  same answer as a lost claim race, handoff/lifecycle.py ``_require_owner``); the test also
  checks that the conversation did not change.
* staff pages (/agent, /editor, /admin) read only the session cookie: signed out (or with a
  dead session) they are the sign-in form (200, no redirect); signed in with a role that may
  not open the page, a 403 page that names the role; otherwise the page with its CSRF token.
* WebSockets: allowed callers get a ``{"type": "ready"}`` frame, everyone else close 4401.

Principals:

* anonymous: no credentials.
* customer / other_customer: the bearer token of the conversation in the URL / of another one.
* agent: role agent, holds (claimed) the conversation; other_agent: role agent, does not.
* editor, admin: bearer tokens from sign-in of accounts with those roles.
* admin_cookie: the admin's session cookie with the page's X-CSRF-Token (how the pages call
  the API). admin_cookie_no_csrf: the same cookie without the header; every POST, PUT,
  PATCH and DELETE route must refuse it with 403. An admin session is used so that role
  checks let it through everywhere and only the CSRF rule can refuse it.
* editor_token (SUPPORTBOT_EDITOR_TOKEN) and service (SUPPORTBOT_SERVICE_TOKEN) bearers.
* revoked: an agent's token after POST /api/auth/logout.
* disabled: the token of an agent disabled with AgentService.set_active(False); the token row
  is put back afterwards, so the refusal must come from the account check itself and not
  only from the tokens being deleted on disable (that path is the "revoked" principal).

SQLite only; Rasa is faked at its HTTP boundary (tests/handoff/conftest.py ``FakeRasa``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from api.assets import assets
from api.config import Settings
from api.db import unit_of_work as db_unit_of_work
from api.main import create_app
from handoff.agents import AgentService, token_hash
from handoff.config import HandoffSettings
from handoff.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, csrf_token
from handoff.mailer import resume_key
from handoff.models import (
    AGENT,
    ASSIGNED,
    BOT_SENDER,
    CUSTOMER,
    AgentToken,
    Conversation,
    Feedback,
    Message,
)
from handoff.uow import unit_of_work
from knowledge_base.articles import make_article
from knowledge_base.store import ArticleService
from tests.handoff.conftest import ALWAYS_OPEN, FakeRasa

SERVICE_TOKEN = "matrix-service-token"
EDITOR_TOKEN = "matrix-editor-token"
SECRET_KEY = "matrix-secret-key-0123456789"
PASSWORD = "matrix-password-123"
WS = "WS"
MOUNT = "MOUNT"


# ---- the route table ------------------------------------------------------------------------
def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every endpoint of ``app``: each HTTP method of a route, ``"WS"`` for a
    WebSocket route, ``"MOUNT"`` for a mounted ASGI app (socket.io, static files). HEAD is
    folded into GET. A kind of route this function does not know fails loudly."""
    try:  # FastAPI >= 0.16x keeps included routers nested in app.routes
        from fastapi.routing import iter_route_contexts

        found = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: app.routes is already flat
        found = [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    keys: list[tuple[str, str]] = []
    for route, path, methods in found:
        if isinstance(route, APIWebSocketRoute | WebSocketRoute):
            keys.append((WS, path))
        elif isinstance(route, Mount):
            keys.append((MOUNT, path))
        elif isinstance(route, APIRoute | Route):
            keys.extend(
                (m, path) for m in sorted(methods or ()) if not (m == "HEAD" and "GET" in methods)
            )
        else:
            raise AssertionError(f"route_table does not know {type(route).__name__} at {path}")
    return keys


# ---- principals and access levels -----------------------------------------------------------
PRINCIPALS = (
    "anonymous",
    "customer",
    "other_customer",
    "agent",
    "other_agent",
    "editor",
    "admin",
    "admin_cookie",
    "admin_cookie_no_csrf",
    "editor_token",
    "service",
    "revoked",
    "disabled",
)
ALL = frozenset(PRINCIPALS)
ACCOUNT_ROLE = {  # principals that are a live staff session, and their role
    "agent": "agent",
    "other_agent": "agent",
    "editor": "editor",
    "admin": "admin",
    "admin_cookie": "admin",
    "admin_cookie_no_csrf": "admin",
}


@dataclass(frozen=True)
class Access:
    """Who gets through. ``csrf``: a cookie session needs X-CSRF-Token on unsafe methods.
    ``owner_only``: another agent is refused by the conversation's owner rule (409/403).
    ``kind``: "api" (status codes), "page" (cookie-read HTML page) or "ws" (WebSocket)."""

    name: str
    allowed: frozenset[str]
    csrf: bool = True
    owner_only: bool = False
    kind: str = "api"


def _roles(*roles: str) -> frozenset[str]:
    return frozenset(p for p, role in ACCOUNT_ROLE.items() if role in roles)


PUBLIC = Access("PUBLIC", ALL, csrf=False)
# The signed, expiring key of a reply email is the credential (sent in the body by everyone).
EMAIL_KEY = Access("EMAIL_KEY", ALL, csrf=False)
# Sign-out form: anyone may post it (it only ends the caller's own cookie session), but with a
# session cookie it needs the page's CSRF token.
SIGN_OUT = Access("SIGN_OUT", ALL)
CUSTOMER_OWN = Access("CUSTOMER_OWN", frozenset({"customer"}), csrf=False)
SIGNED_IN = Access("SIGNED_IN", _roles("agent", "editor", "admin"))  # any staff account
AGENT_ROLES = Access("AGENT", _roles("agent", "admin"))
CONVERSATION_OWNER = Access("CONVERSATION_OWNER", _roles("agent", "admin"), owner_only=True)
EDITOR = Access("EDITOR", _roles("editor", "admin") | {"editor_token"})
ADMIN = Access("ADMIN", _roles("admin"))
SERVICE = Access("SERVICE", frozenset({"service"}), csrf=False)
# Prometheus scrapes: the metrics (or service) token, or an admin session.
METRICS = Access("METRICS", _roles("admin") | {"service"})
WS_CUSTOMER = Access("CUSTOMER_OWN", frozenset({"customer"}), kind="ws")
WS_AGENT = Access("AGENT", _roles("agent", "admin"), kind="ws")


def STAFF_PAGE(*roles: str) -> Access:  # noqa: N802 - reads like the other levels
    return Access(f"STAFF_PAGE({'|'.join(roles)})", _roles(*roles), kind="page")


C = "/api/conversations/{conversation_id}"
H = "/api/handoff/conversations/{conversation_id}"
A = "/api/kb/articles/{slug}"

ACCESS: dict[tuple[str, str], Access] = {
    # FastAPI's own docs, the shop, the widget, static files, health, help center, search
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    (MOUNT, "/socket.io"): PUBLIC,  # Rasa's socket.io protocol; conversations carry tokens
    ("GET", "/"): PUBLIC,
    ("GET", "/widget.js"): PUBLIC,
    ("GET", "/static/{digest}/{name:path}"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): METRICS,
    ("GET", "/help"): PUBLIC,
    ("GET", "/help/{slug}"): PUBLIC,
    ("GET", "/api/kb/search"): PUBLIC,
    ("POST", "/api/kb/search"): PUBLIC,
    # staff pages and their sign-in / sign-out forms
    ("GET", "/agent"): STAFF_PAGE("agent", "admin"),
    ("GET", "/editor"): STAFF_PAGE("editor", "admin"),
    ("GET", "/admin"): STAFF_PAGE("admin"),
    ("GET", "/analytics"): STAFF_PAGE("agent", "admin"),
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGN_OUT,
    # customer chat (the conversation's bearer token)
    ("POST", "/api/conversations"): PUBLIC,
    ("POST", f"{C}/messages"): CUSTOMER_OWN,
    ("POST", f"{C}/handoff"): CUSTOMER_OWN,
    ("POST", f"{C}/resume"): EMAIL_KEY,
    ("GET", C): CUSTOMER_OWN,
    ("POST", f"{C}/feedback"): CUSTOMER_OWN,
    ("POST", f"{C}/csat"): CUSTOMER_OWN,
    ("POST", f"{C}/email"): CUSTOMER_OWN,
    (WS, f"{C}/ws"): WS_CUSTOMER,
    # staff sign-in API
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/auth/me"): SIGNED_IN,
    # the action server
    ("POST", "/api/handoff/escalations"): SERVICE,
    # agent console
    ("GET", "/api/handoff/queue"): AGENT_ROLES,
    ("GET", "/api/handoff/conversations"): AGENT_ROLES,
    ("GET", "/api/handoff/agents"): AGENT_ROLES,
    ("GET", H): AGENT_ROLES,
    ("POST", f"{H}/claim"): AGENT_ROLES,
    ("POST", f"{H}/messages"): CONVERSATION_OWNER,  # a public reply (internal notes: any agent)
    ("POST", f"{H}/release"): CONVERSATION_OWNER,
    ("POST", f"{H}/resolve"): CONVERSATION_OWNER,
    ("POST", f"{H}/return-to-bot"): CONVERSATION_OWNER,
    ("GET", f"{H}/suggestions"): AGENT_ROLES,
    ("POST", f"{H}/suggestions/feedback"): AGENT_ROLES,
    (WS, "/api/handoff/ws"): WS_AGENT,
    ("GET", "/api/analytics"): AGENT_ROLES,
    ("GET", "/api/analytics/{name}"): AGENT_ROLES,  # agents: only their own per-agent row
    # knowledge-base editor
    ("GET", "/api/kb/articles"): EDITOR,
    ("POST", "/api/kb/articles"): EDITOR,
    ("GET", A): EDITOR,
    ("PUT", A): EDITOR,
    ("DELETE", A): EDITOR,
    ("GET", f"{A}/revisions"): EDITOR,
    ("GET", f"{A}/revisions/{{number}}"): EDITOR,
    ("POST", f"{A}/revisions/{{number}}/restore"): EDITOR,
    ("GET", f"{A}/diff"): EDITOR,
    ("POST", f"{A}/publish"): EDITOR,
    ("POST", f"{A}/unpublish"): EDITOR,
    ("POST", "/api/kb/preview"): EDITOR,
    ("GET", "/api/kb/unanswered"): EDITOR,
    ("POST", "/api/kb/unanswered/attach"): EDITOR,
    ("POST", "/api/kb/unanswered/draft"): EDITOR,
    ("POST", "/api/kb/unanswered/dismiss"): EDITOR,
    # team admin
    ("GET", "/api/admin/agents"): ADMIN,
    ("POST", "/api/admin/agents"): ADMIN,
    ("PATCH", "/api/admin/agents/{agent_id}"): ADMIN,
    ("POST", "/api/admin/agents/{agent_id}/password"): ADMIN,
}

# The state the case's conversation is in (default: claimed by "agent" for conversation
# routes, a fresh one otherwise); chosen so that an allowed request can succeed.
SETUP = {
    ("POST", f"{H}/claim"): "queued",
    ("POST", f"{C}/csat"): "resolved",
    ("POST", "/api/handoff/escalations"): "bot",
    ("POST", "/api/kb/unanswered/attach"): "bot",
    ("POST", "/api/kb/unanswered/draft"): "bot",
    ("POST", "/api/kb/unanswered/dismiss"): "bot",
}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# Minimal valid request parts per route (json=, data=, params=), built for the case.
REQUESTS: dict[tuple[str, str], Any] = {
    (MOUNT, "/socket.io"): lambda c: {"params": {"EIO": "4", "transport": "polling"}},
    ("GET", "/api/kb/search"): lambda c: {"params": {"q": "return boots", "k": 1}},
    ("POST", "/api/kb/search"): lambda c: {"json": {"q": "return boots", "k": 1}},
    ("POST", "/login"): lambda c: {
        "data": {"email": c.world.login_email, "password": PASSWORD, "next": "/agent"}
    },
    ("POST", "/api/conversations"): lambda c: {"json": {}},
    ("POST", f"{C}/messages"): lambda c: {"json": {"text": "is my order on its way?"}},
    ("POST", f"{C}/resume"): lambda c: {"json": {"key": resume_key(SECRET_KEY, c.conversation.id)}},
    ("POST", f"{C}/feedback"): lambda c: {
        "json": {"message_id": c.conversation.bot_message_id, "helpful": True}
    },
    ("POST", f"{C}/csat"): lambda c: {"json": {"score": 5}},
    ("POST", f"{C}/email"): lambda c: {"json": {"email": "shopper@example.com"}},
    ("POST", "/api/auth/login"): lambda c: {
        "json": {"email": c.world.login_email, "password": PASSWORD}
    },
    ("POST", "/api/handoff/escalations"): lambda c: {
        "json": {"conversation_id": c.conversation.id, "reason": "requested"}
    },
    ("GET", "/api/handoff/conversations"): lambda c: {"params": {"view": "open"}},
    ("POST", f"{H}/messages"): lambda c: {"json": {"text": "Hi, I'm looking into it."}},
    ("POST", f"{H}/suggestions/feedback"): lambda c: {
        "json": {"source": "kb", "ref": "return-policy#returns", "action": "ignored"}
    },
    ("POST", "/api/kb/articles"): lambda c: {
        "json": {"slug": _unique("matrix-new"), "title": "Matrix", "body": "Some text."}
    },
    ("PUT", A): lambda c: {"json": {"title": "Matrix, edited"}},
    ("GET", f"{A}/diff"): lambda c: {"params": {"from": 1, "to": 1}},
    ("POST", "/api/kb/preview"): lambda c: {"json": {"body": "**bold**"}},
    ("POST", "/api/kb/unanswered/attach"): lambda c: {
        "json": {"message_ids": [c.conversation.customer_message_id], "slug": c.article}
    },
    ("POST", "/api/kb/unanswered/draft"): lambda c: {
        "json": {
            "message_ids": [c.conversation.customer_message_id],
            "slug": _unique("matrix-draft"),
            "title": "Drafted",
        }
    },
    ("POST", "/api/kb/unanswered/dismiss"): lambda c: {
        "json": {"message_ids": [c.conversation.customer_message_id]}
    },
    ("POST", "/api/admin/agents"): lambda c: {
        "json": {
            "email": f"{_unique('new')}@example.com",
            "name": "New Person",
            "role": "agent",
            "password": PASSWORD,
        }
    },
    ("PATCH", "/api/admin/agents/{agent_id}"): lambda c: {"json": {"name": "Target Person"}},
    ("POST", "/api/admin/agents/{agent_id}/password"): lambda c: {
        "json": {"password": "another-password-456"}
    },
}


# ---- the app and the people in it -----------------------------------------------------------
@dataclass
class Conv:
    id: str
    token: str
    bot_message_id: int | None = None
    customer_message_id: int | None = None


@dataclass
class World:
    client: TestClient
    setup_agent_token: str  # "agent"'s session used to set cases up (never revoked)
    emails: dict[str, str]
    other: Conv  # the conversation of "other_customer"
    revoked_token: str
    disabled_token: str
    target_agent_id: int  # the account the admin routes act on
    login_email: str
    published_slug: str
    static: tuple[str, str]  # digest and name of a static file
    agent_ids: dict[str, int]

    @property
    def state(self):  # noqa: ANN201
        return self.client.app.state.supportbot

    def issue(self, email: str) -> str:
        """A fresh session token for an account (as sign-in gives, without argon2 per case)."""
        with unit_of_work(self.state.sessions, self.state.bus) as uow:
            agents = AgentService(uow.session)
            return agents.issue_token(agents.by_email(email), ttl_hours=1)

    def conversation(self, state: str) -> Conv:
        """A conversation in ``state``: new, bot (one question answered), queued, claimed
        (by "agent") or resolved."""
        client = self.client
        created = client.post("/api/conversations", json={})
        assert created.status_code == 201, created.text
        conv = Conv(created.json()["conversation_id"], created.json()["token"])
        auth = {"Authorization": f"Bearer {conv.token}"}
        if state == "new":
            return conv
        question = {"text": "how do returns work?"}
        sent = client.post(f"/api/conversations/{conv.id}/messages", json=question, headers=auth)
        assert sent.status_code == 200, sent.text
        service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
        agent = {"Authorization": f"Bearer {self.setup_agent_token}"}
        if state in ("queued", "claimed", "resolved"):
            body = {"conversation_id": conv.id, "reason": "requested"}
            escalated = client.post("/api/handoff/escalations", json=body, headers=service)
            assert escalated.status_code == 201, escalated.text
        if state in ("claimed", "resolved"):
            claimed = client.post(f"/api/handoff/conversations/{conv.id}/claim", headers=agent)
            assert claimed.status_code == 200, claimed.text
        if state == "resolved":
            done = client.post(f"/api/handoff/conversations/{conv.id}/resolve", headers=agent)
            assert done.status_code == 200, done.text
        with unit_of_work(self.state.sessions, self.state.bus) as uow:
            rows = uow.session.scalars(
                select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
            ).all()
            conv.bot_message_id = next(m.id for m in rows if m.sender == BOT_SENDER)
            conv.customer_message_id = next(m.id for m in rows if m.sender == CUSTOMER)
        return conv

    def article(self) -> str:
        """A draft article with one revision."""
        slug = _unique("matrix")
        with db_unit_of_work(self.state.sessions) as session:
            article = make_article(slug=slug, title="Matrix article", body="## Text\n\nWords.")
            ArticleService(session).create(article=article, author="matrix")
        return slug


class HashingEncoder:
    """Stands in for the sentence model: the matrix is about who gets in, not about answer
    quality, and indexing the help center with the real model takes ~40 s on a busy machine."""

    name = "auth-matrix-hashing"
    dimension = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        out[:, 0] = 0.1  # never a zero vector
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _account(world_state, email: str, role: str) -> int:  # noqa: ANN001
    with unit_of_work(world_state.sessions, world_state.bus) as uow:
        agent = AgentService(uow.session).create(
            email=email, name=email.split("@")[0].title(), role=role, password=PASSWORD
        )
        return agent.id


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    var = tmp_path_factory.mktemp("auth-matrix")
    settings = Settings(
        var_dir=var,
        service_token=SERVICE_TOKEN,
        editor_token=EDITOR_TOKEN,
        secret_key=SECRET_KEY,
        rasa_url="http://127.0.0.1:9",  # readiness: Rasa refused at once (503), never hangs
    )
    handoff_settings = HandoffSettings(
        business_hours=ALWAYS_OPEN,
        rate_per_conversation=10_000,
        rate_per_ip=100_000,
        conversations_per_ip_per_hour=100_000,
        login_attempts_per_minute=10_000,
    )
    fake = FakeRasa()
    # Undone when the module ends (before other modules build their apps).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("api.main.load_embedder", lambda *args, **kwargs: HashingEncoder())
        with TestClient(create_app(settings, handoff_settings)) as client:
            yield _populate(client, fake)


def _populate(client: TestClient, fake: FakeRasa) -> World:
    state = client.app.state.supportbot
    state.rasa.http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    state.rasa.base_url = "http://rasa.test"
    emails = {
        "agent": "maya@matrix.example",
        "other_agent": "omar@matrix.example",
        "editor": "edda@matrix.example",
        "admin": "ada@matrix.example",
    }
    roles = {"agent": "agent", "other_agent": "agent", "editor": "editor", "admin": "admin"}
    agent_ids = {who: _account(state, emails[who], roles[who]) for who in emails}
    for who in ("admin_cookie", "admin_cookie_no_csrf"):
        emails[who] = emails["admin"]
    target_id = _account(state, "target@matrix.example", "agent")
    _account(state, "login@matrix.example", "agent")
    _account(state, "gone@matrix.example", "agent")
    _account(state, "off@matrix.example", "agent")

    def sign_in(email: str) -> str:
        response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.cookies.clear()
        return response.json()["token"]

    revoked = sign_in("gone@matrix.example")
    out = client.post("/api/auth/logout", headers={"Authorization": f"Bearer {revoked}"})
    assert out.status_code == 204, out.text
    client.cookies.clear()

    disabled = sign_in("off@matrix.example")
    with unit_of_work(state.sessions, state.bus) as uow:
        agents = AgentService(uow.session)
        off = agents.by_email("off@matrix.example")
        agents.set_active(off, False)  # deletes its tokens...
        uow.session.add(  # ...put this one back: only the account check is left
            AgentToken(
                token_hash=token_hash(disabled),
                agent_id=off.id,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    with db_unit_of_work(state.sessions) as session:
        published_slug = ArticleService(session).published()[0].slug
    name = next(n for n in assets.files if n != "widget-loader.js")
    world = World(
        client=client,
        setup_agent_token=sign_in(emails["agent"]),
        emails=emails,
        other=Conv("", ""),
        revoked_token=revoked,
        disabled_token=disabled,
        target_agent_id=target_id,
        login_email="login@matrix.example",
        published_slug=published_slug,
        static=(assets.get(name).digest, name),
        agent_ids=agent_ids,
    )
    world.other = world.conversation("bot")
    return world


# ---- one case -------------------------------------------------------------------------------
class Case:
    """One route x principal; the resources it needs are created on first use."""

    def __init__(self, world: World, key: tuple[str, str], principal: str) -> None:
        self.world, self.key, self.principal = world, key, principal
        self.method, self.path = key
        self.access = ACCESS[key]

    @cached_property
    def conversation(self) -> Conv:
        default = "claimed" if "{conversation_id}" in self.path else "new"
        return self.world.conversation(SETUP.get(self.key, default))

    @cached_property
    def article(self) -> str:
        return self.world.article()

    @cached_property
    def token(self) -> str | None:
        """The principal's credential (None for anonymous)."""
        w = self.world
        if self.principal in ACCOUNT_ROLE:
            return w.issue(w.emails[self.principal])
        if self.principal == "customer":
            return self.conversation.token
        return {
            "anonymous": None,
            "other_customer": w.other.token,
            "editor_token": EDITOR_TOKEN,
            "service": SERVICE_TOKEN,
            "revoked": w.revoked_token,
            "disabled": w.disabled_token,
        }[self.principal]

    def url(self) -> str:
        values = {
            "conversation_id": lambda: self.conversation.id,
            "slug": lambda: (
                self.world.published_slug if self.path.startswith("/help/") else self.article
            ),
            "number": lambda: "1",
            "agent_id": lambda: str(self.world.target_agent_id),
            "digest": lambda: self.world.static[0],
            "name": lambda: (
                "summary" if self.path.startswith("/api/analytics/") else self.world.static[1]
            ),
        }

        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                pytest.fail(f"{self.method} {self.path}: no value for path parameter {{{name}}}")
            return values[name]()

        url = re.sub(r"\{(\w+)(?::\w+)?\}", fill, self.path)
        return url + "/" if self.method == MOUNT else url

    def http_headers(self) -> dict[str, str]:
        token, headers = self.token, {}
        if token is None:
            return headers
        cookie = self.principal.startswith("admin_cookie") or self.access.kind == "page"
        if not cookie:  # pages read only the cookie: a browser is what opens them
            headers["Authorization"] = f"Bearer {token}"
            return headers
        headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        if self.principal == "admin_cookie":
            headers[CSRF_HEADER] = csrf_token(SECRET_KEY, token)
        return headers

    def expected(self) -> str:
        p, access = self.principal, self.access
        if access.kind == "page":
            if p not in ACCOUNT_ROLE:
                return "login_form"
            return "page" if p in access.allowed else "forbidden_page"
        unsafe = self.method not in SAFE_METHODS and access.kind == "api"
        if p == "admin_cookie_no_csrf" and access.csrf and unsafe:
            return "csrf_refused"
        if access.owner_only and p == "other_agent":
            return "not_owner"
        return "allowed" if p in access.allowed else "denied"


def _ws_outcome(case: Case) -> dict | int:
    """The first frame the server sends, or the close code."""
    token, headers, frame = case.token, {}, {"type": "auth"}
    if case.principal.startswith("admin_cookie"):
        headers["Cookie"] = f"{SESSION_COOKIE}={token}"
        if case.path == "/api/handoff/ws":
            frame = None  # the console socket reads the cookie first
    elif token is not None:
        frame = {"type": "auth", "token": token}
    try:
        with case.world.client.websocket_connect(case.url(), headers=headers) as ws:
            if frame is not None:
                ws.send_json(frame)
            return ws.receive_json()
    except WebSocketDisconnect as exc:
        return exc.code


def _conversation_row(world: World, conversation_id: str) -> tuple[str, int | None, int]:
    with unit_of_work(world.state.sessions, world.state.bus) as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        replies = uow.session.scalars(
            select(Message.id).where(
                Message.conversation_id == conversation_id, Message.sender == AGENT
            )
        ).all()
        return conversation.status, conversation.assigned_agent_id, len(replies)


# ---- the tests ------------------------------------------------------------------------------
ROUTES = route_table(create_app())  # collection time: the route table needs no startup


def _missing(keys: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in keys if (method, path) not in ACCESS]


def test_every_route_has_an_expected_access():
    missing = _missing(ROUTES)
    assert not missing, (
        "routes without an expected access in ACCESS (tests/api/test_auth_matrix.py): "
        + ", ".join(missing)
    )


def test_the_access_table_names_only_existing_routes():
    stale = [f"{m} {p}" for m, p in ACCESS if (m, p) not in set(ROUTES)]
    assert not stale, f"ACCESS entries for routes the app no longer has: {', '.join(stale)}"


def test_a_new_route_is_reported_by_name():
    app = create_app()
    app.add_api_route("/api/brand-new/{thing}", lambda thing: {}, methods=["DELETE"])
    app.add_api_websocket_route("/api/brand-new/ws", lambda websocket: None)
    app.mount("/uploads", FastAPI())
    assert _missing(route_table(app)) == [
        "DELETE /api/brand-new/{thing}",
        "WS /api/brand-new/ws",
        "MOUNT /uploads",
    ]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("key", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_auth_matrix(world: World, key: tuple[str, str], principal: str) -> None:
    if key not in ACCESS:
        pytest.fail(f"{key[0]} {key[1]} has no expected access in ACCESS: add one")
    case = Case(world, key, principal)
    want = case.expected()
    where = f"{key[0]} {key[1]} as {principal} ({case.access.name})"

    if case.access.kind == "ws":
        outcome = _ws_outcome(case)
        if want == "allowed":
            assert isinstance(outcome, dict) and outcome.get("type") == "ready", (
                f"{where}: expected a ready frame, got {outcome!r}"
            )
        else:
            assert outcome == 4401, f"{where}: expected close 4401, got {outcome!r}"
        return

    client = world.client
    url = case.url()
    parts = REQUESTS.get(key, lambda c: {})(case)
    headers = case.http_headers()
    method = "GET" if case.method == MOUNT else case.method
    client.cookies.clear()
    try:
        response = client.request(method, url, headers=headers, follow_redirects=False, **parts)
    finally:
        client.cookies.clear()
    status, text = response.status_code, response.text
    got = f"got {status}: {text[:300]}"

    if want == "page":
        assert status == 200 and 'name="csrf-token"' in text, f"{where}: expected the page, {got}"
        assert 'action="/login"' not in text, f"{where}: expected the page, not sign-in"
    elif want == "forbidden_page":
        assert status == 403 and "needs the role" in text, f"{where}: expected 403 page, {got}"
    elif want == "login_form":
        signed_out = status == 200 and 'action="/login"' in text and 'name="password"' in text
        assert signed_out and 'name="csrf-token"' not in text, f"{where}: expected sign-in, {got}"
    elif want == "allowed":
        assert status not in (401, 403), f"{where}: expected to get through, {got}"
    elif want == "denied":
        assert status in (401, 403), f"{where}: expected 401 or 403, {got}"
    elif want == "csrf_refused":
        assert status == 403 and "CSRF" in text, f"{where}: expected 403 (CSRF), {got}"
    elif want == "not_owner":
        assert status in (403, 409), f"{where}: expected 403 or 409 (not the owner), {got}"
        conversation = case.conversation
        status_now, owner, replies = _conversation_row(world, conversation.id)
        assert (status_now, owner) == (ASSIGNED, world.agent_ids["agent"]), (
            f"{where}: the refused request changed the conversation"
        )
        assert replies == 0, f"{where}: the refused reply was stored"
    else:  # pragma: no cover
        raise AssertionError(want)


# ---- a few cases the matrix cannot express --------------------------------------------------
def test_console_socket_refuses_a_cookie_from_another_site(world: World):
    case = Case(world, (WS, "/api/handoff/ws"), "admin_cookie")
    headers = {"Cookie": f"{SESSION_COOKIE}={case.token}", "Origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        world.client.websocket_connect("/api/handoff/ws", headers=headers) as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4401


def test_cookie_with_the_csrf_token_from_another_site_is_refused(world: World):
    case = Case(world, ("POST", "/api/auth/logout"), "admin_cookie")
    headers = {**case.http_headers(), "Origin": "https://evil.example"}
    world.client.cookies.clear()
    response = world.client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 403 and "cross-site" in response.text


def test_resume_needs_a_valid_key(world: World):
    conversation = world.conversation("new")
    forged = resume_key("not-the-secret-key", conversation.id)
    response = world.client.post(
        f"/api/conversations/{conversation.id}/resume", json={"key": forged}
    )
    assert response.status_code == 403
    other = resume_key(SECRET_KEY, world.other.id)  # a key for another conversation
    response = world.client.post(
        f"/api/conversations/{conversation.id}/resume", json={"key": other}
    )
    assert response.status_code == 403


def test_a_customer_cannot_rate_answers_of_another_conversation(world: World):
    """Object level: the own token with another conversation's message id finds nothing."""
    mine = world.conversation("bot")
    response = world.client.post(
        f"/api/conversations/{mine.id}/feedback",
        json={"message_id": world.other.bot_message_id, "helpful": False},
        headers={"Authorization": f"Bearer {mine.token}"},
    )
    assert response.status_code == 404, response.text
    with unit_of_work(world.state.sessions, world.state.bus) as uow:
        stored = uow.session.scalars(
            select(Feedback).where(Feedback.message_id == world.other.bot_message_id)
        ).all()
    assert stored == []


def test_other_agents_may_add_internal_notes(world: World):
    """Only the public reply is reserved to the owner; a colleague's note is fine."""
    conversation = world.conversation("claimed")
    token = world.issue(world.emails["other_agent"])
    response = world.client.post(
        f"/api/handoff/conversations/{conversation.id}/messages",
        json={"text": "FYI: VIP customer", "internal": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text


def test_an_agent_sees_only_their_own_row_of_the_per_agent_analytics(world: World):
    def rows(who: str) -> list[dict]:
        token = world.issue(world.emails[who])
        response = world.client.get(
            "/api/analytics/agents", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()["rows"]

    assert [r["agent_id"] for r in rows("agent")] == [world.agent_ids["agent"]]
    assert len({r["agent_id"] for r in rows("admin")}) > 1  # admins see the whole team
