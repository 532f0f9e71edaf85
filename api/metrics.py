"""Operations metrics in Prometheus format at ``/metrics`` (prometheus-client).

- ``supportbot_http_request_duration_seconds{method,route,status}``: every HTTP request, by
  route template (``/api/conversations/{conversation_id}/messages``), never the raw path;
- ``supportbot_bot_reply_duration_seconds``: the gateway's round trip to Rasa per customer
  message (``observe_bot_reply``);
- ``supportbot_bot_errors_total{component,kind}``: Rasa / action server failures the app saw
  (``count_rasa_error``, ``count_actions_error``);
- ``supportbot_queue_length``, ``supportbot_agents_online``: read from the database at scrape
  time;
- ``supportbot_websocket_connections{route}``: open WebSockets (customer, console, socket.io);
- the process collector's CPU, memory and file descriptors.

``/metrics`` is not public: it wants ``SUPPORTBOT_METRICS_TOKEN`` or the service token as a
bearer token, or a signed-in admin. Each app worker counts its own requests (scrape each
worker, or run one).
"""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Cookie, Header, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff.agents import AgentService
from handoff.deps import SESSION_COOKIE, bearer
from handoff.models import QUEUED, Conversation
from handoff.queue import QueueService
from handoff.uow import unit_of_work

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUEST_DURATION = Histogram(
    "supportbot_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
BOT_REPLY_DURATION = Histogram(
    "supportbot_bot_reply_duration_seconds",
    "Round trip from the gateway to Rasa and back for one customer message",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
BOT_ERRORS = Counter(
    "supportbot_bot_errors_total",
    "Failures of Rasa or the action server seen by the app",
    ["component", "kind"],
    registry=REGISTRY,
)
QUEUE_LENGTH = Gauge(
    "supportbot_queue_length", "Conversations waiting for an agent", registry=REGISTRY
)
AGENTS_ONLINE = Gauge(
    "supportbot_agents_online",
    "Agents active recently, within business hours",
    registry=REGISTRY,
)
WEBSOCKETS = Gauge(
    "supportbot_websocket_connections",
    "Open WebSocket connections",
    ["route"],
    registry=REGISTRY,
)
UNMATCHED = "<unmatched>"


# ---- hooks for the chat gateway ----------------------------------------------------------
def observe_bot_reply(seconds: float) -> None:
    """One customer message's round trip to Rasa (successful or not), in seconds."""
    BOT_REPLY_DURATION.observe(max(0.0, seconds))


def count_rasa_error(kind: str = "unavailable") -> None:
    """Rasa could not be reached or failed (kind: unavailable, timeout, http, invalid_reply,
    resume, restart)."""
    BOT_ERRORS.labels("rasa", kind[:32]).inc()


def count_actions_error(kind: str = "failed") -> None:
    """The action server failed (as reported to the app)."""
    BOT_ERRORS.labels("actions", kind[:32]).inc()


# ---- the middleware ----------------------------------------------------------------------
def route_of(scope: Scope) -> str:
    """The route template that handled the request (set by the router), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("path", "").startswith("/socket.io"):
        return "/socket.io"
    return UNMATCHED


class MetricsMiddleware:
    """Times HTTP requests per route template and counts open WebSockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            REQUEST_DURATION.labels(scope["method"], route_of(scope), str(status)).observe(
                time.perf_counter() - started
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        opened: str | None = None

        async def sending(message: Message) -> None:
            nonlocal opened
            if message["type"] == "websocket.accept" and opened is None:
                opened = route_of(scope)
                WEBSOCKETS.labels(opened).inc()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if opened is not None:
                WEBSOCKETS.labels(opened).dec()


# ---- /metrics ----------------------------------------------------------------------------
router = APIRouter(include_in_schema=False)


def _access(request: Request, token: str | None, cookie: str | None) -> int:
    """200 for the metrics or service token or an admin, 403 for other staff, else 401."""
    state = request.app.state.supportbot
    settings = state.settings
    for expected in (settings.metrics_token, settings.service_token):
        if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
            return 200
    session_token = token or cookie
    if not session_token:
        return 401
    with unit_of_work(state.sessions, state.bus) as uow:
        agent = AgentService(uow.session).for_token(session_token)
        if agent is None:
            return 401
        return 200 if agent.role == "admin" else 403


def _refresh_gauges(request: Request) -> None:
    state = request.app.state.supportbot
    with unit_of_work(state.sessions, state.bus) as uow:
        queued = uow.session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == QUEUED)
        )
        QUEUE_LENGTH.set(queued or 0)
        AGENTS_ONLINE.set(QueueService(uow.session, state.handoff).agents_online())


@router.get("/metrics")
async def metrics(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    supportbot_session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Response:
    """Prometheus text format; a metrics/service bearer token or an admin session."""
    token = bearer(authorization)
    status = await run_in_threadpool(_access, request, token, supportbot_session)
    if status == 403:
        raise HTTPException(403, "metrics are for admins and the metrics token")
    if status != 200:
        raise HTTPException(
            401,
            "metrics need SUPPORTBOT_METRICS_TOKEN (or the service token) as a bearer token, "
            "or an admin session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await run_in_threadpool(_refresh_gauges, request)
    return Response(
        generate_latest(REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
