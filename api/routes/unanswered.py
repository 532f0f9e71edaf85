"""Unanswered questions for content editors: grouped, ranked, and turned into help content
(attached to an article as "questions this article answers", or a new draft)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.db import unit_of_work
from api.deps import EditorDep, StateDep
from api.kb_sync import sync_index
from api.routes.articles import ArticleRead, _errors, _read
from handoff import unanswered
from handoff.openapi import errors
from knowledge_base.articles import MAX_QUESTION_CHARS, ArticleError, make_article
from knowledge_base.search import QueryError
from knowledge_base.store import ArticleConflict, ArticleNotFound, ArticleService

router = APIRouter(
    prefix="/api/kb/unanswered", tags=["knowledge base editor"], responses=errors(401, 403, 422)
)

DRAFT_BODY = (
    "## Answer\n\n"
    "Customers asked the questions listed with this article and the help center had no "
    "answer. Write the answer here, then publish.\n"
)


# Message ids are 64-bit database integers: a larger number is a 422, not a database error.
MessageId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Questions(BaseModel):
    message_ids: list[MessageId] = Field(min_length=1, max_length=500)


class AttachIn(Questions):
    slug: str = Field(min_length=1, max_length=80)


class DraftIn(Questions):
    slug: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str = Field(min_length=1, max_length=200)


def _texts(session, message_ids: list[int]) -> tuple[list[int], list[str]]:  # noqa: ANN001
    messages = unanswered.customer_questions(session, message_ids)
    if not messages:
        raise HTTPException(422, "none of these message ids is a customer question")
    return [m.id for m in messages], [m.text.strip()[:MAX_QUESTION_CHARS] for m in messages]


@router.get("")
def list_groups(
    state: StateDep, editor: EditorDep, days: int = Query(90, ge=1, le=3650)
) -> dict[str, Any]:
    """Groups of similar unanswered questions, most asked and most recent first."""

    def build() -> dict[str, Any]:
        with unit_of_work(state.sessions) as session:
            asked = unanswered.collect(session, since=unanswered.since_days(days))
            vectors = unanswered.vectors_for(asked, state.embedder.encode, state.reply_vectors)
            groups = unanswered.group(asked, vectors)
            out = []
            for g in groups:
                try:
                    best = state.search.search(g.questions[0].text[:1000], 1)
                except QueryError:
                    best = []
                out.append(
                    {
                        "id": min(q.message_id for q in g.questions),
                        "count": len(g.questions),
                        "last_asked": g.last_asked.isoformat(),
                        "questions": [
                            {
                                "message_id": q.message_id,
                                "conversation_id": q.conversation_id,
                                "text": q.text,
                                "why": q.why,
                                "asked_at": q.asked_at.isoformat(),
                            }
                            for q in g.questions
                        ],
                        "agent_replies": unanswered.agent_replies(session, g),
                        "closest_article": (
                            {"slug": best[0].slug, "title": best[0].title, "score": best[0].score}
                            if best
                            else None
                        ),
                    }
                )
            return {"groups": out, "questions": len(asked), "days": days}

    return build()  # a sync route: FastAPI runs it in the thread pool


@router.post("/attach", responses=errors(404, 409))
async def attach(body: AttachIn, state: StateDep, editor: EditorDep) -> dict[str, Any]:
    """Adds the questions to an article; a published article is republished so search
    finds it for them at once (an article with unpublished edits keeps them as a draft)."""

    def run() -> dict[str, Any]:
        with unit_of_work(state.sessions) as session:
            ids, texts = _texts(session, body.message_ids)
            service = ArticleService(session)
            before = service.get(slug=body.slug)
            merged = list(dict.fromkeys([*before.article.questions, *texts]))
            view = service.update(
                slug=body.slug,
                changes={"questions": merged},
                author=editor.name,
                note=f"added {len(texts)} customer question(s) from the unanswered list",
            )
            published = before.status == "published"
            if published:
                view = service.publish(slug=body.slug)
            unanswered.mark_handled(
                session,
                message_ids=ids,
                action="attached",
                article_slug=body.slug,
                agent_id=editor.agent_id,
            )
        if published:
            sync_index(state.sessions, state.index)
        return {"article": _read(view).model_dump(mode="json"), "published": published}

    try:
        return await run_in_threadpool(run)
    except ArticleNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except (ArticleError, ArticleConflict) as exc:
        raise _errors(exc) from exc


@router.post("/draft", response_model=ArticleRead, status_code=201, responses=errors(409))
def draft(body: DraftIn, state: StateDep, editor: EditorDep) -> ArticleRead:
    """Starts a new draft article that answers these questions."""
    with unit_of_work(state.sessions) as session:
        ids, texts = _texts(session, body.message_ids)
        try:
            article = make_article(
                slug=body.slug, title=body.title, body=DRAFT_BODY, questions=texts
            )
            view = ArticleService(session).create(
                article=article, author=editor.name, note="drafted from unanswered questions"
            )
        except (ArticleError, ArticleConflict) as exc:
            raise _errors(exc) from exc
        unanswered.mark_handled(
            session, message_ids=ids, action="drafted", article_slug=body.slug,
            agent_id=editor.agent_id,
        )  # fmt: skip
        return _read(view)


@router.post("/dismiss", status_code=204)
def dismiss(body: Questions, state: StateDep, editor: EditorDep) -> None:
    """Takes questions off the list without changing the help center (spam, not a question)."""
    with unit_of_work(state.sessions) as session:
        ids, _ = _texts(session, body.message_ids)
        unanswered.mark_handled(
            session, message_ids=ids, action="dismissed", article_slug=None,
            agent_id=editor.agent_id,
        )  # fmt: skip
