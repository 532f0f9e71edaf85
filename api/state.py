"""What the app's lifespan creates and hands to requests (typed, no globals)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from knowledge_base.embedder import Embedder
from knowledge_base.index import PassageIndex
from knowledge_base.search import SearchEngine


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    http: httpx.AsyncClient
    embedder: Embedder
    index: PassageIndex
    search: SearchEngine
