"""The agent console's live WebSocket: queue and message events while the session is valid."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from handoff.deps import same_origin, websocket_agent, websocket_token
from handoff.events import AGENTS, stream

router = APIRouter(tags=["handoff"])


@router.websocket("/api/handoff/ws")
async def agents_ws(websocket: WebSocket) -> None:
    """Live queue and message events for the agent console (session cookie, or a first
    frame ``{"type": "auth", "token": ...}`` from API clients)."""
    state = websocket.app.state.supportbot
    if not same_origin(websocket):  # another site must not ride on an agent's cookie
        await websocket.close(code=4401)
        return
    await websocket.accept()
    token = await websocket_token(websocket)
    agent = await run_in_threadpool(websocket_agent, websocket, token)
    if agent is None or agent.role not in ("agent", "admin"):
        await websocket.close(code=4401)
        return

    async def still_allowed() -> bool:  # a logged-out or disabled agent stops receiving
        current = await run_in_threadpool(websocket_agent, websocket, token)
        return current is not None and current.role in ("agent", "admin")

    def revoked(event: dict) -> bool:  # disabled, demoted or password reset by an admin
        return event.get("type") == "agent.revoked" and event.get("agent_id") == agent.id

    await stream(
        websocket,
        state.bus,
        AGENTS,
        {"type": "ready", "agent_id": agent.id},
        still_allowed,
        closes_on=revoked,
    )
