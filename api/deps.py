"""Request dependencies as Annotated aliases (tests swap them with dependency_overrides)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from api.db import session_scope
from api.state import AppState
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


def require_editor(
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """Editor bearer token (SUPPORTBOT_EDITOR_TOKEN); returns the author name recorded."""
    expected = state.settings.editor_token
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="editor token required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "editor"


EditorDep = Annotated[str, Depends(require_editor)]
