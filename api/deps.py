"""Request dependencies as Annotated aliases (tests swap them with dependency_overrides)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.db import session_scope
from api.state import AppState
from knowledge_base.search import SearchEngine


def get_state(request: Request) -> AppState:
    return request.app.state.supportbot


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    yield from session_scope(state.sessions)


SessionDep = Annotated[Session, Depends(get_session)]


def get_search(state: StateDep) -> SearchEngine:
    return state.search


SearchDep = Annotated[SearchEngine, Depends(get_search)]
