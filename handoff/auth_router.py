"""Staff sign-in: login (bearer token and the console's session cookie), logout, me."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from handoff.agents import AgentService
from handoff.deps import (
    SESSION_COOKIE,
    CurrentAgent,
    UowDep,
    app_state,
    bearer,
    set_session_cookie,
)
from handoff.models import Agent
from handoff.openapi import errors

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)


class AgentOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class LoginOut(BaseModel):
    token: str
    agent: AgentOut


def _agent_out(agent: Agent) -> AgentOut:
    return AgentOut(id=agent.id, email=agent.email, name=agent.name, role=agent.role)


@router.post(
    "/api/auth/login",
    response_model=LoginOut,
    responses=errors(401, 422, 429, e401="wrong email or password"),
)
def login(body: LoginIn, uow: UowDep, request: Request, response: Response) -> LoginOut:
    """Agent login: returns a bearer token and sets the console's session cookie."""
    state = app_state(request)
    # Failed attempts per client address are limited (guessing); successful ones are not.
    key = f"login-failed:{request.client.host if request.client else ''}"
    over, retry = state.limiter.exceeded(key, state.handoff.login_attempts_per_minute)
    if over:
        raise HTTPException(
            429,
            "too many failed sign-ins; wait a minute",
            headers={"Retry-After": str(round(retry) + 1)},
        )
    agents = AgentService(uow.session)
    agent = agents.authenticate(email=body.email, password=body.password)
    if agent is None:
        state.limiter.allow(key, state.handoff.login_attempts_per_minute)
        raise HTTPException(401, "wrong email or password")
    token = agents.issue_token(agent, ttl_hours=state.handoff.agent_token_ttl_hours)
    agents.for_token(token)  # marks the agent online
    set_session_cookie(response, token, state)
    return LoginOut(token=token, agent=_agent_out(agent))


@router.post(
    "/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 422)
)
def logout(agent: CurrentAgent, uow: UowDep, request: Request, response: Response) -> None:
    """Ends this session; the agent no longer counts as online."""
    token = bearer(request.headers.get("authorization")) or request.cookies.get(SESSION_COOKIE)
    agents = AgentService(uow.session)
    if token:
        agents.revoke(token)
    agents.set_offline(agent.id)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/api/auth/me", response_model=AgentOut, responses=errors(401, 422))
def me(agent: CurrentAgent) -> AgentOut:
    """The logged-in agent."""
    return _agent_out(agent)
