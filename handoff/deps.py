"""Handoff request dependencies: unit of work, agent and service authentication."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Cookie, Depends, Header, HTTPException, Request, WebSocket

from handoff.agents import AgentService
from handoff.models import Agent
from handoff.uow import UnitOfWork, unit_of_work

SESSION_COOKIE = "supportbot_session"


def app_state(request: Request) -> Any:
    return request.app.state.supportbot


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    state = app_state(request)
    with unit_of_work(state.sessions, state.bus) as uow:
        yield uow


# scope="function": commit (and publish events) before the response goes out, so a client
# that reads right after a write sees it.
UowDep = Annotated[UnitOfWork, Depends(get_uow, scope="function")]


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _agent_from(uow: UnitOfWork, token: str | None) -> Agent:
    agent = AgentService(uow.session).for_token(token) if token else None
    if agent is None:
        raise HTTPException(401, "agent login required", headers={"WWW-Authenticate": "Bearer"})
    return agent


def current_agent(
    uow: UowDep,
    authorization: Annotated[str | None, Header()] = None,
    supportbot_session: Annotated[str | None, Cookie()] = None,
) -> Agent:
    """The logged-in agent (bearer token, or the console's session cookie)."""
    return _agent_from(uow, bearer(authorization) or supportbot_session)


CurrentAgent = Annotated[Agent, Depends(current_agent, scope="function")]


def require_roles(*roles: str):  # noqa: ANN201
    def check(agent: CurrentAgent) -> Agent:
        if agent.role not in roles:
            raise HTTPException(403, f"requires role {' or '.join(roles)}")
        return agent

    return check


AgentOnDuty = Annotated[Agent, Depends(require_roles("agent", "admin"), scope="function")]


def require_service(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Service-to-service calls (the Rasa action server) present SUPPORTBOT_SERVICE_TOKEN."""
    expected = app_state(request).settings.service_token
    token = bearer(authorization) or ""
    if not hmac.compare_digest(token.encode(), expected.encode()):
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
