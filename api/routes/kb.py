"""Knowledge-base search (public: the bot and the widget call it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import SearchDep, StateDep
from knowledge_base.search import MAX_K, QueryError

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


class SearchResultOut(BaseModel):
    slug: str
    title: str
    section: str
    snippet: str
    score: float
    url: str


class SearchOut(BaseModel):
    results: list[SearchResultOut]
    # Cosine similarity below which an answer should not be given (configuration).
    threshold: float


@router.get("/search", response_model=SearchOut)
async def search(
    search: SearchDep,
    state: StateDep,
    q: str = Query(..., description="the customer's question", max_length=10_000),
    k: int = Query(5, ge=1, le=MAX_K),
) -> SearchOut:
    """Articles that best answer a question, best first; scores are cosine similarities."""
    try:
        results = await run_in_threadpool(search.search, q, k)
    except QueryError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    base = state.settings.public_base_url.rstrip("/")
    return SearchOut(
        results=[SearchResultOut(**{**r.__dict__, "url": f"{base}{r.url}"}) for r in results],
        threshold=state.settings.kb_answer_threshold,
    )
