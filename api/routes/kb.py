"""Knowledge-base search (public: the bot and the widget call it)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import SearchDep, StateDep
from handoff.openapi import errors
from knowledge_base import query_vector
from knowledge_base.search import MAX_EXCLUDE, MAX_K, QueryError

router = APIRouter(prefix="/api/kb", tags=["knowledge base"], responses=errors(422))


class SearchResultOut(BaseModel):
    slug: str
    title: str
    section: str
    snippet: str
    score: float
    url: str
    # The score less what says the article may not answer the question (NLU's out-of-scope
    # probability, words of the question the article lacks), plus for the first result its
    # lead over the second: compare it with the threshold.
    answer_score: float


class SearchOut(BaseModel):
    results: list[SearchResultOut]
    # Answer score below which an answer should not be given (configuration).
    threshold: float


class QueryEmbedding(BaseModel):
    """The question's embedding, when the caller computed it with the app's model (the bot's
    NLU does): the search uses it instead of embedding the question again."""

    model: str = Field(description="id of the ONNX export that computed it", max_length=64)
    vector: str = Field(
        description="base64 of the little-endian float32 unit vector",
        max_length=query_vector.MAX_VECTOR_CHARS,
    )


class SearchIn(BaseModel):
    q: str = Field(description="the customer's question", max_length=10_000)
    k: int = Field(5, ge=1, le=MAX_K)
    # Passages ("slug#section") already shown to this customer: the next best comes instead.
    exclude: list[str] = Field(default_factory=list, max_length=MAX_EXCLUDE)
    # NLU's intent ranking for the message (intent -> confidence): articles of a likely
    # topic rank a little higher; its out_of_scope probability lowers the answer scores.
    intents: dict[str, float] = Field(default_factory=dict, max_length=50)
    # The embedding of ``q`` exactly as sent (knowledge_base/query_vector.py); used when it
    # comes from the model the index was built with, ignored otherwise.
    embedding: QueryEmbedding | None = None


async def _search(  # noqa: ANN202
    search,  # noqa: ANN001
    state,  # noqa: ANN001
    q: str,
    k: int,
    exclude: list[str],
    intents: dict[str, float] | None = None,
    embedding: QueryEmbedding | None = None,
):
    try:
        vector = None
        if embedding is not None:
            decoded = query_vector.decode(embedding.vector, search.encoder.dimension)
            if embedding.model == getattr(search.encoder, "model_id", None):
                vector = decoded
        results = await run_in_threadpool(
            lambda: search.search(
                q, k, exclude=frozenset(exclude), intents=intents, vector=vector
            )
        )
    except (QueryError, query_vector.VectorError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    base = state.settings.public_base_url.rstrip("/")
    return SearchOut(
        results=[SearchResultOut(**{**r.__dict__, "url": f"{base}{r.url}"}) for r in results],
        threshold=state.settings.kb_answer_threshold,
    )


@router.get("/search", response_model=SearchOut)
async def search(
    search: SearchDep,
    state: StateDep,
    q: str = Query(..., description="the customer's question", max_length=10_000),
    k: int = Query(5, ge=1, le=MAX_K),
) -> SearchOut:
    """Articles that best answer a question, best first; scores are cosine similarities."""
    return await _search(search, state, q, k, [])


@router.post("/search", response_model=SearchOut)
async def search_post(body: SearchIn, search: SearchDep, state: StateDep) -> SearchOut:
    """The same search with the question in the body (kept out of URLs and access logs),
    optionally skipping passages already shown."""
    return await _search(
        search, state, body.q, body.k, body.exclude, body.intents, body.embedding
    )
