"""Client for the supportbot app: knowledge-base search and handoff escalations."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bot.actions.config import ActionSettings, get_settings

logger = logging.getLogger(__name__)


class AppUnavailable(Exception):
    """The app could not be reached or answered with an unexpected error."""


@dataclass(frozen=True)
class SearchResult:
    slug: str
    title: str
    section: str
    snippet: str
    score: float
    url: str
    # the score less what says the article may not answer the question: this one is compared
    # with the threshold (an older app sends none: the score)
    answer_score: float


@dataclass(frozen=True)
class SearchResponse:
    results: list[SearchResult]
    # The app's configured answer threshold; below it (answer score) the bot must not answer.
    threshold: float


class AppClient:
    """Async HTTP client; ``transport`` lets unit tests fake the app at the HTTP boundary."""

    def __init__(
        self,
        settings: ActionSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> httpx.AsyncClient:
        """One pooled client per event loop (the action server has one): creating a client
        costs ~20 ms of CPU (it loads a TLS context), more than the search it sends."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop or self._http.is_closed:
            self._http = httpx.AsyncClient(
                base_url=self.settings.app_url,
                timeout=self.settings.http_timeout_s,
                transport=self._transport,
                headers={"Authorization": f"Bearer {self.settings.service_token}"},
            )
            self._loop = loop
        return self._http

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            logger.error("app unreachable: %s %s: %r", method, path, exc)
            raise AppUnavailable(str(exc)) from exc
        if response.status_code >= 400:
            logger.error(
                "app error: %s %s -> %s %s", method, path, response.status_code, response.text[:500]
            )
            raise AppUnavailable(f"{method} {path} -> HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise AppUnavailable(f"{method} {path}: invalid JSON") from exc

    async def search(
        self,
        query: str,
        k: int | None = None,
        exclude: tuple[str, ...] | list[str] = (),
        intents: dict[str, float] | None = None,
        embedding: dict[str, str] | None = None,
    ) -> SearchResponse:
        """Search the knowledge base (``POST /api/kb/search``: the question stays out of
        URLs and access logs); ``exclude`` skips passages ("slug#section") shown already;
        ``embedding`` is NLU's vector of exactly ``query`` (the app then does not embed it)."""
        body: dict[str, Any] = {
            "q": query,
            "k": k or self.settings.kb_results,
            "exclude": list(exclude),
            "intents": intents or {},
        }
        if embedding:
            body["embedding"] = embedding
        data = await self._request("POST", "/api/kb/search", json=body)
        results = [
            SearchResult(
                slug=r["slug"],
                title=r["title"],
                section=r.get("section") or "",
                snippet=r.get("snippet") or "",
                score=float(r["score"]),
                url=r.get("url") or f"/help/{r['slug']}",
                answer_score=float(r.get("answer_score", r["score"])),
            )
            for r in data.get("results", [])
        ]
        return SearchResponse(results=results, threshold=float(data.get("threshold", 0.5)))

    async def escalate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Hand the conversation to the agent queue (``POST /api/handoff/escalations``)."""
        return await self._request("POST", "/api/handoff/escalations", json=payload)
