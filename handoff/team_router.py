"""Team admin API (role admin): accounts, roles, disabling, password resets.

Disabling an account, changing its role or resetting its password ends its sessions at once:
its tokens are deleted and an ``agent.revoked`` event closes its open console sockets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from handoff.agents import AgentError, AgentService
from handoff.deps import AdminOnly, AgentOnDuty, UowDep, app_state
from handoff.events import AGENTS
from handoff.models import Agent
from handoff.openapi import errors
from handoff.uow import UnitOfWork

router = APIRouter(tags=["team admin"])

Role = Literal["agent", "editor", "admin"]


class AccountOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    online: bool
    last_seen_at: datetime | None


class AccountCreate(BaseModel):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=120)
    role: Role = "agent"
    password: str = Field(min_length=10, max_length=1000)


class AccountUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    role: Role | None = None
    is_active: bool | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=10, max_length=1000)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _out(agent: Agent, window_s: int) -> AccountOut:
    seen = _aware(agent.last_seen_at)
    online = bool(
        agent.is_active and seen and datetime.now(UTC) - seen <= timedelta(seconds=window_s)
    )
    return AccountOut(
        id=agent.id,
        email=agent.email,
        name=agent.name,
        role=agent.role,
        is_active=agent.is_active,
        online=online,
        last_seen_at=seen,
    )


def _load(agents: AgentService, agent_id: int) -> Agent:
    agent = agents.get(agent_id) if 1 <= agent_id <= 2**63 - 1 else None
    if agent is None:
        raise HTTPException(404, f"no account {agent_id}")
    return agent


def _revoked(uow: UnitOfWork, agent: Agent) -> None:
    uow.emit(AGENTS, {"type": "agent.revoked", "agent_id": agent.id})


@router.get("/api/admin/agents", response_model=list[AccountOut], responses=errors(401, 403, 422))
def list_accounts(admin: AdminOnly, uow: UowDep, request: Request) -> list[AccountOut]:
    """Every account with its role and whether it is active and online."""
    window = app_state(request).handoff.agent_online_window_s
    return [_out(a, window) for a in AgentService(uow.session).list()]


@router.post(
    "/api/admin/agents",
    response_model=AccountOut,
    status_code=201,
    responses=errors(401, 403, 409, 422, e409="an account with this email exists already"),
)
def create_account(
    body: AccountCreate, admin: AdminOnly, uow: UowDep, request: Request
) -> AccountOut:
    """A new agent, editor or admin account."""
    try:
        agent = AgentService(uow.session).create(
            email=body.email, name=body.name, role=body.role, password=body.password
        )
    except AgentError as exc:
        code = status.HTTP_409_CONFLICT if "exists" in str(exc) else 422
        raise HTTPException(code, str(exc)) from exc
    return _out(agent, app_state(request).handoff.agent_online_window_s)


@router.patch(
    "/api/admin/agents/{agent_id}",
    response_model=AccountOut,
    responses=errors(401, 403, 404, 409, 422, e409="at least one active admin must remain"),
)
def update_account(
    agent_id: int, body: AccountUpdate, admin: AdminOnly, uow: UowDep, request: Request
) -> AccountOut:
    """Rename, change role, disable or enable an account."""
    agents = AgentService(uow.session)
    agent = _load(agents, agent_id)
    try:
        if body.name is not None:
            agents.rename(agent, body.name)
        if body.role is not None and body.role != agent.role:
            agents.set_role(agent, body.role)
            _revoked(uow, agent)
        if body.is_active is not None and body.is_active != agent.is_active:
            agents.set_active(agent, body.is_active)
            if not body.is_active:
                _revoked(uow, agent)
    except AgentError as exc:
        raise HTTPException(409, str(exc)) from exc
    uow.session.flush()
    return _out(agent, app_state(request).handoff.agent_online_window_s)


@router.post(
    "/api/admin/agents/{agent_id}/password", status_code=204, responses=errors(401, 403, 404, 422)
)
def reset_password(agent_id: int, body: PasswordIn, admin: AdminOnly, uow: UowDep) -> None:
    """Sets a new password; the account's sessions end."""
    agents = AgentService(uow.session)
    agent = _load(agents, agent_id)
    try:
        agents.set_password(agent, body.password)
    except AgentError as exc:
        raise HTTPException(422, str(exc)) from exc
    _revoked(uow, agent)


@router.get("/api/handoff/agents", responses=errors(401, 403, 422))
def colleagues(agent: AgentOnDuty, uow: UowDep, request: Request) -> list[dict]:
    """Active agents (for reassigning a conversation), online first."""
    window = app_state(request).handoff.agent_online_window_s
    people = [
        _out(a, window)
        for a in AgentService(uow.session).list()
        if a.is_active and a.role in ("agent", "admin")
    ]
    people.sort(key=lambda a: (not a.online, a.name.lower()))
    return [{"id": a.id, "name": a.name, "online": a.online} for a in people]
