"""What the app's lifespan creates and hands to requests (typed, no globals)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.rasa_client import RasaClient
from api.ratelimit import RateLimiter, RedisRateLimiter
from handoff.chat import ChatService
from handoff.config import HandoffSettings
from handoff.events import EventBus
from handoff.mailer import Mailer
from knowledge_base.index import Encoder, PassageIndex
from knowledge_base.search import SearchEngine


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    http: httpx.AsyncClient
    embedder: Encoder
    index: PassageIndex
    search: SearchEngine
    handoff: HandoffSettings
    bus: EventBus
    rasa: RasaClient
    limiter: RateLimiter | RedisRateLimiter
    chat: ChatService
    mailer: Mailer
    # customer-message id -> embedding, for suggesting past agent replies
    reply_vectors: OrderedDict = field(default_factory=OrderedDict)
