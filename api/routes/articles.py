"""Knowledge-base editor API (editor token): drafts, revisions, publish, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from api.db import unit_of_work
from api.deps import EditorDep, SessionDep, StateDep
from api.kb_sync import sync_index
from handoff.openapi import errors
from knowledge_base.articles import MAX_BODY_CHARS, MAX_QUESTIONS, ArticleError, make_article
from knowledge_base.render import render_markdown
from knowledge_base.store import ArticleConflict, ArticleNotFound, ArticleService, ArticleView

router = APIRouter(
    prefix="/api/kb/articles", tags=["knowledge base editor"], responses=errors(401, 403, 422)
)


def _utc(moment: datetime) -> datetime:
    """SQLite hands stored UTC times back without their offset; RFC 3339 (the schema's
    ``date-time``) and JavaScript's ``Date`` need it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


# ArticleBase: fields an editor writes. ArticleCreate: POST body. ArticleUpdate: PUT body
# (partial). ArticleRead: what every editor endpoint returns.
class ArticleBase(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, description="Markdown")
    category: str = Field("", max_length=80)
    intent: str = Field("", max_length=80)
    tags: list[str] = Field(default_factory=list, max_length=20)
    # Customer questions this article answers (searched beside its text).
    questions: list[str] = Field(default_factory=list, max_length=MAX_QUESTIONS)


class ArticleCreate(ArticleBase):
    slug: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    note: str = Field("", max_length=500)


class ArticleUpdate(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=MAX_BODY_CHARS)
    category: str | None = Field(None, max_length=80)
    intent: str | None = Field(None, max_length=80)
    tags: list[str] | None = Field(None, max_length=20)
    questions: list[str] | None = Field(None, max_length=MAX_QUESTIONS)
    note: str = Field("", max_length=500)
    # The revision this edit was made on; a newer one on the server means a 409.
    base_revision: int | None = None


class ArticleRead(ArticleBase):
    slug: str
    revision: int
    status: str
    published_revision: int | None
    published_at: UtcDateTime | None
    updated_at: UtcDateTime
    author: str
    url: str
    html: str  # sanitised preview


class RevisionRead(BaseModel):
    number: int
    title: str
    author: str
    note: str
    created_at: UtcDateTime
    published: bool


class PublishRead(BaseModel):
    article: ArticleRead
    embedded_passages: int


def _read(view: ArticleView) -> ArticleRead:
    a = view.article
    return ArticleRead(
        slug=view.slug,
        title=a.title,
        body=a.body,
        category=a.category,
        intent=a.intent,
        tags=list(a.tags),
        questions=list(a.questions),
        revision=view.revision,
        status=view.status,
        published_revision=view.published_revision,
        published_at=view.published_at,
        updated_at=view.updated_at,
        author=view.author,
        url=a.url,
        html=render_markdown(a.body),
    )


def _errors(exc: Exception) -> HTTPException:
    if isinstance(exc, IntegrityError):  # a concurrent create/edit of the same article won
        return HTTPException(
            status.HTTP_409_CONFLICT, "the article was changed at the same time; reload it"
        )
    if isinstance(exc, ArticleNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, ArticleConflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("", response_model=list[ArticleRead])
def list_articles(session: SessionDep, _: EditorDep) -> list[ArticleRead]:
    """All articles with their publication state (draft, published, changed)."""
    return [_read(v) for v in ArticleService(session).list()]


@router.post(
    "",
    response_model=ArticleRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409, e409="an article with this slug exists already"),
)
def create_article(body: ArticleCreate, session: SessionDep, editor: EditorDep) -> ArticleRead:
    """Creates a draft; publish it to make it searchable."""
    try:
        article = make_article(**body.model_dump(exclude={"note"}))
        view = ArticleService(session).create(article=article, author=editor.name, note=body.note)
        return _read(view)
    except (ArticleError, ArticleConflict, IntegrityError) as exc:
        raise _errors(exc) from exc


@router.get("/{slug}", response_model=ArticleRead, responses=errors(404))
def get_article(slug: str, session: SessionDep, _: EditorDep) -> ArticleRead:
    """The latest revision, its state and a sanitised HTML preview."""
    try:
        return _read(ArticleService(session).get(slug=slug))
    except ArticleNotFound as exc:
        raise _errors(exc) from exc


@router.put(
    "/{slug}",
    response_model=ArticleRead,
    responses=errors(404, 409, e409="stale edit: ``conflict`` says who changed what since"),
)
def update_article(
    slug: str, body: ArticleUpdate, session: SessionDep, editor: EditorDep
) -> ArticleRead | JSONResponse:
    """Saves a new revision (not live until published)."""
    changes = body.model_dump(exclude_none=True, exclude={"note", "base_revision"})
    try:
        view = ArticleService(session).update(
            slug=slug,
            changes=changes,
            author=editor.name,
            base_revision=body.base_revision,
            note=body.note,
        )
        return _read(view)
    except ArticleConflict as exc:
        if exc.details is None:
            raise _errors(exc) from exc
        # Who saved what since the revision this edit started from: nothing is lost, the
        # editor sees the other change and reapplies theirs.
        return JSONResponse(
            {"detail": str(exc), "conflict": exc.details}, status_code=status.HTTP_409_CONFLICT
        )
    except (ArticleError, ArticleNotFound, IntegrityError) as exc:
        raise _errors(exc) from exc


@router.get("/{slug}/revisions", response_model=list[RevisionRead], responses=errors(404))
def list_revisions(slug: str, session: SessionDep, _: EditorDep) -> list[RevisionRead]:
    """Revision history, newest first, with author and time."""
    service = ArticleService(session)
    try:
        row = service.repo.get(slug)
        revisions = service.revisions(slug=slug)
    except ArticleNotFound as exc:
        raise _errors(exc) from exc
    live = row.published_revision_id if row else None
    return [
        RevisionRead(
            number=r.number,
            title=r.title,
            author=r.author,
            note=r.note,
            created_at=r.created_at,
            published=r.id == live,
        )
        for r in revisions
    ]


@router.post("/{slug}/publish", response_model=PublishRead, responses=errors(404))
async def publish_article(slug: str, state: StateDep, editor: EditorDep) -> PublishRead:
    """Publishes the latest revision and re-embeds this article only; search sees it at once."""

    def publish() -> tuple[ArticleRead, int]:

        with unit_of_work(state.sessions) as session:
            view = ArticleService(session).publish(slug=slug)
        # Committed first: the index never holds content the database does not.
        report = sync_index(state.sessions, state.index)
        return _read(view), report.embedded_passages

    try:
        article, embedded = await run_in_threadpool(publish)
    except ArticleNotFound as exc:
        raise _errors(exc) from exc
    return PublishRead(article=article, embedded_passages=embedded)


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
async def delete_article(slug: str, state: StateDep, editor: EditorDep) -> Response:
    """Removes the article from the help center and from search (history is kept)."""

    def delete() -> None:

        with unit_of_work(state.sessions) as session:
            ArticleService(session).delete(slug=slug)
        sync_index(state.sessions, state.index)

    try:
        await run_in_threadpool(delete)
    except ArticleNotFound as exc:
        raise _errors(exc) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)
