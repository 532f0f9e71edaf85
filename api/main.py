"""App factory: the FastAPI app with a lifespan that owns engines, clients and the index."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.config import Settings
from api.config import settings as default_settings
from api.db import make_engine, migrate, unit_of_work
from api.kb_sync import seed_demo_articles
from api.metrics import MetricsMiddleware
from api.metrics import router as metrics_router
from api.origins import EmbedOriginMiddleware, OriginPolicy
from api.rasa_client import RasaClient
from api.ratelimit import make_limiter
from api.request_guard import RequestGuardMiddleware
from api.routes import (
    analytics,
    article_history,
    articles,
    conversations,
    health,
    help_pages,
    kb,
    staff_pages,
    unanswered,
    web,
)
from api.socketio_channel import SocketIOChannel
from api.state import AppState
from handoff import auth_router, console_ws, inbox, team_router
from handoff import router as handoff_router
from handoff.chat import ChatService
from handoff.config import HandoffSettings
from handoff.events import make_bus
from handoff.idle import sweep_forever
from handoff.mailer import Mailer, SmtpSettings
from handoff.openapi import errors
from knowledge_base.index import Encoder, PassageIndex
from knowledge_base.onnx_embedder import load_embedder, release_unused_memory
from knowledge_base.search import SearchEngine
from knowledge_base.store import ArticleService

SWEEP_STOP_GRACE_S = 10.0  # how long shutdown waits for a sweep under way to finish

logger = logging.getLogger("supportbot")


def build_search(
    settings: Settings, embedder: Encoder, sessions: sessionmaker
) -> tuple[PassageIndex, SearchEngine]:
    """Opens (or builds) the passage index over the published articles."""
    seed_demo_articles(sessions, settings.kb_dir)
    with unit_of_work(sessions) as session:
        published = ArticleService(session).published()
    index = PassageIndex(settings.index_path, embedder, kind=settings.index_kind)
    report = index.open(published)
    embedder.encode(["warm up"])  # load the model now, not on the first customer question
    if report.changed:
        logger.info(
            "index synced: %d added, %d updated, %d removed, %d passages embedded",
            len(report.added),
            len(report.updated),
            len(report.removed),
            report.embedded_passages,
        )
    return index, SearchEngine(
        index,
        embedder,
        out_of_scope_weight=settings.kb_out_of_scope_weight,
        uncovered_weight=settings.kb_uncovered_weight,
        margin_weight=settings.kb_margin_weight,
    )


def create_app(
    settings: Settings | None = None,
    handoff_settings: HandoffSettings | None = None,
    smtp_settings: SmtpSettings | None = None,
) -> FastAPI:
    settings = settings or default_settings
    handoff_settings = handoff_settings or HandoffSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.sqlalchemy_url)
        await run_in_threadpool(migrate, engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        embedder = await run_in_threadpool(
            load_embedder, settings.embedder_onnx_dir, settings.embedder_backend
        )
        index, search = await run_in_threadpool(build_search, settings, embedder, sessions)
        release_unused_memory()
        bus = make_bus(settings.redis_url)
        await bus.start()
        async with httpx.AsyncClient(timeout=settings.http_timeout_s) as http:
            rasa = RasaClient(http, settings.rasa_url, token=settings.rasa_token)
            limiter = make_limiter(settings.redis_url)
            app.state.supportbot = AppState(
                settings=settings,
                engine=engine,
                sessions=sessions,
                http=http,
                embedder=embedder,
                index=index,
                search=search,
                handoff=handoff_settings,
                bus=bus,
                rasa=rasa,
                limiter=limiter,
                chat=ChatService(sessions, bus, handoff_settings, rasa, limiter),
                mailer=Mailer(
                    smtp_settings or SmtpSettings(),
                    sessions,
                    bus,
                    handoff=handoff_settings,
                    chat_url=settings.chat_page,
                    secret=settings.secret_key,
                ),
            )
            socket_channel.chat, socket_channel.bus = app.state.supportbot.chat, bus
            chat = app.state.supportbot.chat
            stop_sweeping = asyncio.Event()
            sweeper = asyncio.create_task(
                sweep_forever(
                    sessions, bus, handoff_settings, chat, handoff_settings.sweep_every_s,
                    stop=stop_sweeping,
                )
            )  # fmt: skip
            # A full (generation 2) collection scans every object the collector tracks; after
            # start-up that is the frameworks, the ORM, the model and the index, and one such
            # pause took 78 ms in the middle of a customer's turn (once in ~500 turns, the slow
            # turn of bench-chat's one-customer phase). What start-up made lives as long as the
            # app: frozen, the collector skips it and scans only what requests leave behind.
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()  # an app made and stopped again (tests) leaves nothing pinned
                # A sweep under way finishes (its connection goes back before the engine is
                # disposed); one stuck past the grace period is cancelled.
                stop_sweeping.set()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(sweeper, SWEEP_STOP_GRACE_S)
        await bus.stop()
        engine.dispose()

    app = FastAPI(
        title="supportbot",
        summary="AI support assistant with human handoff",
        version="0.1.0",
        lifespan=lifespan,
        # Every request may meet the request guard (api/request_guard.py) first.
        responses=errors(413, 422),
    )
    policy = OriginPolicy(settings.origin_list)
    socket_channel = SocketIOChannel(policy, settings.public_base_url)
    app.add_middleware(EmbedOriginMiddleware, policy=policy)
    app.add_middleware(MetricsMiddleware)  # request latency per route, open WebSockets
    app.add_middleware(RequestGuardMiddleware, max_bytes=settings.max_request_bytes)
    # Outermost: the client address every limit keys on (only from trusted proxies).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies or [])
    app.mount("/socket.io", socket_channel.asgi)
    app.include_router(web.router)
    app.include_router(staff_pages.router)
    app.include_router(health.router)
    app.include_router(kb.router)
    app.include_router(articles.router)
    app.include_router(article_history.router)
    app.include_router(unanswered.router)
    app.include_router(help_pages.router)
    app.include_router(conversations.router)
    app.include_router(auth_router.router)
    app.include_router(handoff_router.router)
    app.include_router(console_ws.router)
    app.include_router(inbox.router)
    app.include_router(team_router.router)
    app.include_router(analytics.router)
    app.include_router(metrics_router)
    return app
