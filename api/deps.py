"""Request dependencies as Annotated aliases (tests swap them with dependency_overrides)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Cookie, Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from api.db import session_scope
from api.db import unit_of_work as session_scope_cm
from api.state import AppState
from handoff.agents import AgentService
from handoff.deps import bearer, check_csrf
from knowledge_base.search import SearchEngine


def get_state(request: Request) -> AppState:
    return request.app.state.supportbot


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    yield from session_scope(state.sessions)


# scope="function": committed before the response is sent, so a read right after a write sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_search(state: StateDep) -> SearchEngine:
    return state.search


SearchDep = Annotated[SearchEngine, Depends(get_search)]


@dataclass(frozen=True)
class Editor:
    """Who is editing the knowledge base: a signed-in editor/admin, or automation."""

    name: str
    agent_id: int | None = None


AUTOMATION = "automation (editor token)"


def require_editor(
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    supportbot_session: Annotated[str | None, Cookie()] = None,
) -> Editor:
    """An editor or admin account (session cookie or bearer token); revisions record who.

    ``SUPPORTBOT_EDITOR_TOKEN`` still works for automation (imports, scripts).
    """
    token = bearer(authorization)
    expected = state.settings.editor_token
    if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return Editor(AUTOMATION)
    session_token = token or supportbot_session
    agent = None
    if session_token:
        with session_scope_cm(state.sessions) as session:
            agent = AgentService(session).for_token(session_token)
            if agent is not None:
                session.expunge(agent)
    if agent is None:
        raise HTTPException(
            status_code=401,
            detail="editor sign-in or editor token required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not token:
        check_csrf(request, session_token)
    if agent.role not in ("editor", "admin"):
        raise HTTPException(403, "requires role editor or admin")
    return Editor(agent.name, agent.id)


EditorDep = Annotated[Editor, Depends(require_editor)]
