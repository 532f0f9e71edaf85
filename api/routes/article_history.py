"""Knowledge-base editor: revision contents, diffs, restore, unpublish and live preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.db import unit_of_work
from api.deps import EditorDep, SessionDep, StateDep
from api.kb_sync import sync_index
from api.routes.articles import ArticleRead, UtcDateTime, _errors, _read
from handoff.openapi import errors
from knowledge_base.articles import MAX_BODY_CHARS
from knowledge_base.diff import revision_diff
from knowledge_base.render import render_markdown
from knowledge_base.store import ArticleNotFound, ArticleService

router = APIRouter(
    prefix="/api/kb", tags=["knowledge base editor"], responses=errors(401, 403, 422)
)


class RevisionContent(BaseModel):
    number: int
    title: str
    body: str
    category: str
    intent: str
    tags: list[str]
    questions: list[str]
    author: str
    note: str
    created_at: UtcDateTime
    html: str


class PreviewIn(BaseModel):
    body: str = Field(max_length=MAX_BODY_CHARS, description="Markdown")


def _not_found(exc: ArticleNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


@router.get(
    "/articles/{slug}/revisions/{number}", response_model=RevisionContent, responses=errors(404)
)
def get_revision(slug: str, number: int, session: SessionDep, _: EditorDep) -> RevisionContent:
    """One revision's full content, as it was saved."""
    try:
        rev = ArticleService(session).revision(slug=slug, number=number)
    except ArticleNotFound as exc:
        raise _not_found(exc) from exc
    return RevisionContent(
        number=rev.number,
        title=rev.title,
        body=rev.body,
        category=rev.category,
        intent=rev.intent,
        tags=list(rev.tags or []),
        questions=list(rev.questions or []),
        author=rev.author,
        note=rev.note,
        created_at=rev.created_at,
        html=render_markdown(rev.body),
    )


@router.get("/articles/{slug}/diff", responses=errors(404))
def diff_revisions(
    slug: str,
    session: SessionDep,
    _: EditorDep,
    from_rev: int = Query(..., alias="from", ge=1),
    to_rev: int = Query(..., alias="to", ge=1),
) -> dict[str, Any]:
    """What changed from one revision to another (fields, body lines, questions)."""
    service = ArticleService(session)
    try:
        old = service.revision(slug=slug, number=from_rev)
        new = service.revision(slug=slug, number=to_rev)
    except ArticleNotFound as exc:
        raise _not_found(exc) from exc
    return {"from": from_rev, "to": to_rev, **revision_diff(old, new)}


@router.post(
    "/articles/{slug}/revisions/{number}/restore",
    response_model=ArticleRead,
    responses=errors(404, 409),
)
def restore_revision(slug: str, number: int, session: SessionDep, editor: EditorDep) -> ArticleRead:
    """Saves revision ``number``'s content as the newest revision (publish to go live)."""
    try:
        return _read(ArticleService(session).restore(slug=slug, number=number, author=editor.name))
    except ArticleNotFound as exc:
        raise _not_found(exc) from exc
    except Exception as exc:  # ArticleError, IntegrityError: reported like any edit
        raise _errors(exc) from exc


@router.post("/articles/{slug}/unpublish", response_model=ArticleRead, responses=errors(404))
async def unpublish_article(slug: str, state: StateDep, editor: EditorDep) -> ArticleRead:
    """Takes the article out of the help center and search; it stays as a draft."""

    def unpublish() -> ArticleRead:
        with unit_of_work(state.sessions) as session:
            view = ArticleService(session).unpublish(slug=slug)
        sync_index(state.sessions, state.index)  # committed first, then out of search
        return _read(view)

    try:
        return await run_in_threadpool(unpublish)
    except ArticleNotFound as exc:
        raise _not_found(exc) from exc


@router.post("/preview")
def preview(body: PreviewIn, _: EditorDep) -> dict[str, str]:
    """Markdown rendered and sanitised exactly as the help center will show it."""
    return {"html": render_markdown(body.body)}
