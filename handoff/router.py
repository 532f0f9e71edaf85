"""Agent API: login, live queue, claim, reply, notes, release, resolve, return to bot,
suggested answers; and the escalation endpoint the Rasa action server calls."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    HTTPException,
    Query,
    Request,
    Response,
    status,
)
from starlette.concurrency import run_in_threadpool

from handoff.conversations import Conflict, ConversationService, NotFound, message_out
from handoff.deps import (
    AgentOnDuty,
    ServiceAuth,
    UowDep,
    app_state,
)
from handoff.inbox import customer_history
from handoff.models import Agent, Conversation
from handoff.openapi import errors
from handoff.schemas import AgentMessageIn, EscalationIn, ReleaseIn, SuggestionRef
from handoff.suggestions import suggest
from handoff.views import summary

logger = logging.getLogger("supportbot.handoff")
router = APIRouter(tags=["handoff"])
MAX_PAGE = 500


def _service(uow, request: Request) -> ConversationService:  # noqa: ANN001
    return ConversationService(uow, app_state(request).handoff)


def _load(service: ConversationService, conversation_id: str) -> Conversation:
    try:
        return service.get(conversation_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc


# ---- escalations (service token) ------------------------------------------------------------
@router.post(
    "/api/handoff/escalations",
    dependencies=[ServiceAuth],
    responses={
        200: {"description": "Already waiting for a person: the open handoff"},
        201: {"model": dict[str, Any], "description": "Queued for a person: a new handoff"},
        **errors(401, 404, 422, e401="service token required"),
    },
)
def create_escalation(
    body: EscalationIn, uow: UowDep, request: Request, response: Response
) -> dict[str, Any]:
    """Queues a conversation for a person (idempotent per open handoff)."""
    service = _service(uow, request)
    context = body.model_dump(exclude={"conversation_id", "reason"})
    try:
        conversation, escalation, created = service.escalate(
            body.conversation_id, reason=body.reason, context=context
        )
    except NotFound as exc:
        raise HTTPException(404, f"{exc} (conversations start at POST /api/conversations)") from exc
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    info = service.live.handoff_info(conversation) or {}
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "reason": conversation.reason,
        "priority": conversation.priority,
        "created": created,
        **{k: info.get(k) for k in ("position", "expected_wait_s", "agents_online")},
    }


# ---- queue and conversations (agents) -----------------------------------------------------
@router.get("/api/handoff/queue", responses=errors(401, 403, 422))
def queue(
    agent: AgentOnDuty,
    uow: UowDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Waiting conversations (priority, then longest wait; the first ``limit``, with the
    total) and the agent's own."""
    service = _service(uow, request)
    mine = uow.session.query(Conversation).filter(
        Conversation.status == "assigned", Conversation.assigned_agent_id == agent.id
    )
    queued = service.queue.queued()
    return {
        "queued": [summary(service, c) for c in queued[:limit]],
        "queued_total": len(queued),
        "mine": [summary(service, c) for c in mine.limit(MAX_PAGE)],
        "agents_online": service.queue.agents_online(),
    }


@router.get("/api/handoff/conversations/{conversation_id}", responses=errors(401, 403, 404, 422))
def conversation_detail(
    conversation_id: str,
    agent: AgentOnDuty,
    uow: UowDep,
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="messages after this id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> dict[str, Any]:
    """Transcript with internal notes (a page at a time: ``has_more``, then ``after``), and
    what the bot understood."""
    service = _service(uow, request)
    conversation = _load(service, conversation_id)
    page = service.repo.transcript(
        conversation, include_internal=True, after=after, limit=limit + 1
    )
    escalation = service.repo.latest_escalation(conversation)
    return {
        **summary(service, conversation),
        "csat_score": conversation.csat_score,
        "escalation": None
        if escalation is None
        else {
            "reason": escalation.reason,
            "priority": escalation.priority,
            "context": escalation.context,
            "created_at": escalation.created_at.isoformat(),
        },
        "messages": [message_out(m, agent_view=True) for m in page[:limit]],
        "has_more": len(page) > limit,
        "handoff": service.live.handoff_info(conversation),
        "customer_history": customer_history(uow.session, conversation),
    }


def _transition(request: Request, uow, conversation_id: str, fn) -> dict[str, Any]:  # noqa: ANN001
    service = _service(uow, request)
    conversation = _load(service, conversation_id)
    try:
        fn(service, conversation)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    uow.session.flush()
    return summary(service, conversation)


@router.post(
    "/api/handoff/conversations/{conversation_id}/claim", responses=errors(401, 403, 404, 409, 422)
)
def claim(
    conversation_id: str, agent: AgentOnDuty, uow: UowDep, request: Request
) -> dict[str, Any]:
    """Takes a queued conversation; 409 if another agent got it first."""
    service = _service(uow, request)
    try:
        conversation = service.claim(conversation_id, agent=agent)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return summary(service, conversation)


@router.post(
    "/api/handoff/conversations/{conversation_id}/messages",
    status_code=201,
    responses=errors(401, 403, 404, 409, 422),
)
def agent_message(
    conversation_id: str,
    body: AgentMessageIn,
    agent: AgentOnDuty,
    uow: UowDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """A reply the customer sees live (and gets by email if they left an address because
    nobody was online), or an internal note (internal=true)."""
    service = _service(uow, request)
    conversation = _load(service, conversation_id)
    try:
        message = service.agent_message(
            conversation,
            agent=agent,
            text=body.text,
            internal=body.internal,
            suggestion=body.suggestion.model_dump() if body.suggestion else None,
        )
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    mailer = app_state(request).mailer
    delivery = service.email_reply(conversation, message, enabled=mailer.settings.enabled)
    if delivery is not None:  # sent after this request's transaction commits
        background.add_task(mailer.deliver, delivery)
    return message_out(message, agent_view=True)


@router.post(
    "/api/handoff/conversations/{conversation_id}/release",
    responses=errors(401, 403, 404, 409, 422),
)
def release(
    conversation_id: str,
    agent: AgentOnDuty,
    uow: UowDep,
    request: Request,
    body: ReleaseIn | None = None,
) -> dict[str, Any]:
    """Back to the queue, or (to_agent_id) straight to a colleague."""
    to_agent = None
    if body and body.to_agent_id is not None:
        to_agent = uow.session.get(Agent, body.to_agent_id)
        if to_agent is None or not to_agent.is_active or to_agent.role not in ("agent", "admin"):
            raise HTTPException(422, "to_agent_id is not an active agent")
    return _transition(
        request, uow, conversation_id, lambda s, c: s.release(c, agent=agent, to_agent=to_agent)
    )


@router.post(
    "/api/handoff/conversations/{conversation_id}/resolve",
    responses=errors(401, 403, 404, 409, 422),
)
def resolve(
    conversation_id: str, agent: AgentOnDuty, uow: UowDep, request: Request
) -> dict[str, Any]:
    """Ends the conversation; the customer is asked to rate it."""
    return _transition(request, uow, conversation_id, lambda s, c: s.resolve(c, agent=agent))


@router.post(
    "/api/handoff/conversations/{conversation_id}/return-to-bot",
    responses=errors(401, 403, 404, 409, 422),
)
async def return_to_bot(
    conversation_id: str, agent: AgentOnDuty, uow: UowDep, request: Request
) -> dict[str, Any]:
    """Hands the conversation back to the assistant and resumes the Rasa conversation."""
    summary = await run_in_threadpool(
        _transition, request, uow, conversation_id, lambda s, c: s.return_to_bot(c, agent=agent)
    )
    # Committed before Rasa is called: no lock is held while Rasa answers (up to its
    # timeout); if the resume fails, the gateway resumes before the next message.
    await run_in_threadpool(uow.commit)
    try:
        await app_state(request).rasa.resume(conversation_id)
    except Exception as exc:  # noqa: BLE001 - the gateway resumes before the next message
        logger.warning("Rasa resume for %s deferred: %r", conversation_id, exc)
        return {**summary, "rasa_resumed": False}
    service = _service(uow, request)
    await run_in_threadpool(lambda: service.mark_resumed(service.get(conversation_id)))
    return {**summary, "rasa_resumed": True}


@router.get(
    "/api/handoff/conversations/{conversation_id}/suggestions", responses=errors(401, 403, 404, 422)
)
def suggestions(
    conversation_id: str, agent: AgentOnDuty, uow: UowDep, request: Request
) -> dict[str, Any]:
    """Help-center passages and past agent replies for the latest customer message."""
    service = _service(uow, request)
    conversation = _load(service, conversation_id)
    return suggest(uow.session, app_state(request), conversation)


@router.post(
    "/api/handoff/conversations/{conversation_id}/suggestions/feedback",
    status_code=204,
    responses=errors(401, 403, 404, 422),
)
def suggestion_feedback(
    conversation_id: str, body: SuggestionRef, agent: AgentOnDuty, uow: UowDep, request: Request
) -> None:
    """Records that a shown suggestion was ignored (used/edited come with the reply)."""
    service = _service(uow, request)
    conversation = _load(service, conversation_id)
    service.record_suggestion(
        conversation, agent=agent, source=body.source, ref=body.ref, action=body.action
    )
