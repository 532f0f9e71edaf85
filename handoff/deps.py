"""Handoff request dependencies: unit of work, agent and service authentication."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Cookie, Depends, Header, HTTPException, Request, Response, WebSocket

from handoff.agents import AgentService
from handoff.models import Agent
from handoff.ports import AppState
from handoff.uow import UnitOfWork, unit_of_work

SESSION_COOKIE = "supportbot_session"


def app_state(request: Request) -> AppState:
    return request.app.state.supportbot


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    state = app_state(request)
    with unit_of_work(state.sessions, state.bus) as uow:
        yield uow


# scope="function": commit (and publish events) before the response goes out, so a client
# that reads right after a write sees it.
UowDep = Annotated[UnitOfWork, Depends(get_uow, scope="function")]


def set_session_cookie(response: Response, token: str, state: AppState) -> None:
    """The staff pages' session: HttpOnly, same-site only, Secure outside local runs."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=state.settings.environment.value in ("staging", "production"),
        max_age=state.handoff.agent_token_ttl_hours * 3600,
    )


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "x-csrf-token"


def _agent_from(uow: UnitOfWork, token: str | None) -> Agent:
    agent = AgentService(uow.session).for_token(token) if token else None
    if agent is None:
        raise HTTPException(401, "agent login required", headers={"WWW-Authenticate": "Bearer"})
    return agent


def csrf_token(secret_key: str, session_token: str) -> str:
    """The anti-forgery token of a console session: pages send it back in X-CSRF-Token."""
    digest = hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), "sha256")
    return digest.hexdigest()


def check_csrf(request: Request, session_token: str, form_token: str | None = None) -> None:
    """A state-changing request that rides on the session cookie must come from our own
    pages: same Origin (when the browser sends one) and the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-site request refused")
    expected = csrf_token(app_state(request).settings.secret_key, session_token)
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def current_agent(
    request: Request,
    uow: UowDep,
    authorization: Annotated[str | None, Header()] = None,
    supportbot_session: Annotated[str | None, Cookie()] = None,
) -> Agent:
    """The signed-in staff member: a bearer token (API clients), or the pages' session
    cookie, which must also carry the CSRF token on state-changing requests."""
    token = bearer(authorization)
    if token:
        return _agent_from(uow, token)
    agent = _agent_from(uow, supportbot_session)
    check_csrf(request, supportbot_session or "")
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent, scope="function")]


def require_roles(*roles: str):  # noqa: ANN201
    def check(agent: CurrentAgent) -> Agent:
        if agent.role not in roles:
            raise HTTPException(403, f"requires role {' or '.join(roles)}")
        return agent

    return check


AgentOnDuty = Annotated[Agent, Depends(require_roles("agent", "admin"), scope="function")]
AdminOnly = Annotated[Agent, Depends(require_roles("admin"), scope="function")]


def require_service(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Service-to-service calls (the Rasa action server) present SUPPORTBOT_SERVICE_TOKEN."""
    expected = app_state(request).settings.service_token
    token = bearer(authorization) or ""
    # An empty configured token must not make an empty bearer valid.
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(401, "service token required", headers={"WWW-Authenticate": "Bearer"})


ServiceAuth = Depends(require_service)


def same_origin(websocket: WebSocket) -> bool:
    """Browsers send Origin on WebSocket handshakes; only the console's own site may connect
    with its cookie (another site, such as a page with the widget, may not)."""
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser (API clients, tests): the token decides
        return True
    from urllib.parse import urlsplit

    return urlsplit(origin).netloc == websocket.headers.get("host")


def websocket_agent(websocket: WebSocket, token: str | None) -> Agent | None:
    """The active agent a console WebSocket's token (cookie or first frame) belongs to."""
    if not token:
        return None
    state = websocket.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        agent = AgentService(uow.session).for_token(token)
        if agent is not None:
            uow.session.expunge(agent)
        return agent


async def websocket_token(websocket: WebSocket, timeout_s: float = 10.0) -> str | None:
    """After accept: the session cookie, else ``{"type": "auth", "token": ...}`` sent first.

    Tokens never travel in the URL (URLs end up in access logs).
    """
    import asyncio

    cookie = websocket.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    try:
        first = await asyncio.wait_for(websocket.receive_json(), timeout=timeout_s)
    except Exception:  # noqa: BLE001 - timeout, disconnect or a frame that is not JSON
        return None
    if (
        isinstance(first, dict)
        and first.get("type") == "auth"
        and isinstance(first.get("token"), str)
    ):
        return first["token"]
    return None
