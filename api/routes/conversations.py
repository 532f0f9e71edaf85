"""Customer chat gateway: conversations, messages (to Rasa while the bot owns them), live
updates, feedback and ratings. Customers authenticate with their conversation's token."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Header,
    HTTPException,
    Request,
    WebSocket,
    status,
)
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, Field
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep
from api.rasa_client import RasaUnavailable, bot_messages
from handoff.conversations import Conflict, ConversationService, NotFound, Unauthorized, message_out
from handoff.deps import bearer
from handoff.events import conversation_channel, stream
from handoff.models import BOT, SYSTEM, Message
from handoff.uow import unit_of_work

logger = logging.getLogger("supportbot.gateway")
router = APIRouter(prefix="/api/conversations", tags=["customer chat"])

RASA_DOWN = (
    "Sorry, our assistant is having trouble right now, and your message is saved. "
    "You can try again in a moment or talk to a person."
)
TALK_TO_PERSON = {"title": "Talk to a person", "payload": "/request_human"}
UNHELPFUL = (
    "Sorry that didn't help. Would you like to talk to a person? They'll see this conversation."
)
# Button payloads the widget may send as-is. Any other "/intent" text would let a customer
# pick their own intent (e.g. "/billing_dispute" to jump the queue), so its slash is dropped.
BUTTON_PAYLOADS = {"/request_human", "/affirm", "/deny"}


def for_rasa(text: str) -> str:
    text = text.strip()
    if text.startswith("/") and text not in BUTTON_PAYLOADS:
        return text.lstrip("/").strip() or text
    return text


class ConversationCreate(BaseModel):
    # Channel info from the widget (page URL, locale); stored, forwarded to Rasa as metadata.
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=20)


class ConversationCreated(BaseModel):
    conversation_id: str
    token: str


class MessageIn(BaseModel):
    text: str = Field(min_length=1)
    client_message_id: str | None = Field(None, min_length=1, max_length=64)


MAX_ID = 2**63 - 1


class FeedbackIn(BaseModel):
    message_id: int = Field(ge=1, le=MAX_ID)
    helpful: bool


class CsatIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=1000)


class EmailIn(BaseModel):
    email: EmailStr


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rate(state, key: str, limit: int, window_s: float = 60.0) -> None:  # noqa: ANN001
    allowed, retry = state.limiter.allow(key, limit, window_s)
    if not allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many messages; please wait a moment",
            headers={"Retry-After": str(max(1, round(retry)))},
        )


def _service(uow, state) -> ConversationService:  # noqa: ANN001
    return ConversationService(uow, state.handoff)


@contextmanager
def _customer(state, conversation_id: str, token: str | None):  # noqa: ANN001, ANN202
    """One transaction: the conversation (only with its own token) and its service."""
    with unit_of_work(state.sessions, state.bus) as uow:
        service = _service(uow, state)
        try:
            conversation = service.authorize(conversation_id, token)
        except Unauthorized as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        yield service, conversation


def _auth(state, conversation_id: str, token: str | None) -> None:  # noqa: ANN001
    """Token check on its own (async routes, before work that must not hold a transaction)."""
    with _customer(state, conversation_id, token):
        pass


def _snapshot(state, conversation_id: str, reply_ids: list[int]) -> dict[str, Any]:  # noqa: ANN001
    with unit_of_work(state.sessions, state.bus) as uow:
        service = _service(uow, state)
        conversation = service.get(conversation_id)
        replies = [uow.session.get(Message, i) for i in reply_ids]
        return {
            "messages": [message_out(m) for m in replies if m is not None],
            "status": conversation.status,
            "handoff": service.handoff_info(conversation),
        }


@router.post("", response_model=ConversationCreated, status_code=status.HTTP_201_CREATED)
def create_conversation(
    body: ConversationCreate, request: Request, state: StateDep
) -> ConversationCreated:
    """Starts a conversation; the token is the customer's secret for it (keep it private)."""
    _rate(state, f"new:{client_ip(request)}", state.handoff.conversations_per_ip_per_hour, 3600)
    with unit_of_work(state.sessions, state.bus) as uow:
        conversation, token = _service(uow, state).create(channel={"metadata": body.metadata})
        conversation_id = conversation.id
    return ConversationCreated(conversation_id=conversation_id, token=token)


@router.post("/{conversation_id}/messages")
async def send_message(
    conversation_id: str,
    body: MessageIn,
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Stores the message, then lets the bot answer while it owns the conversation."""
    await run_in_threadpool(_auth, state, conversation_id, bearer(authorization))
    if len(body.text) > state.handoff.max_message_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"message is longer than {state.handoff.max_message_chars} characters",
        )
    _rate(state, f"conv:{conversation_id}", state.handoff.rate_per_conversation)
    _rate(state, f"ip:{client_ip(request)}", state.handoff.rate_per_ip)

    def store() -> tuple[int, bool, str, bool, list[int], dict]:
        with unit_of_work(state.sessions, state.bus) as uow:
            service = _service(uow, state)
            conversation = service.get(conversation_id)
            message, replay = service.add_customer_message(
                conversation,
                text=body.text.strip() or body.text,
                client_message_id=body.client_message_id,
            )
            replies = [m.id for m in service.replies_to(message)] if replay else []
            return (
                message.id,
                replay,
                conversation.status,
                bool(conversation.channel.get("resume_pending")),
                replies,
                conversation.channel,
            )

    message_id, replay, conv_status, resume_pending, reply_ids, channel = await run_in_threadpool(
        store
    )
    if replay or conv_status != BOT:
        # A retry gets the original answer; while a person owns it the bot stays silent.
        return JSONResponse(await run_in_threadpool(_snapshot, state, conversation_id, reply_ids))

    if resume_pending:
        try:
            await state.rasa.resume(conversation_id)
            await run_in_threadpool(_mark_resumed, state, conversation_id)
        except RasaUnavailable as exc:
            logger.warning("could not resume Rasa conversation %s: %s", conversation_id, exc)
    try:
        replies = await state.rasa.send(
            sender=conversation_id,
            text=for_rasa(body.text),
            metadata={"channel": "widget", **(channel.get("metadata") or {})},
        )
        outgoing = bot_messages(replies)
        sender = "bot"
    except RasaUnavailable as exc:
        logger.error("Rasa unavailable for %s: %s", conversation_id, exc)
        if body.text.strip() == TALK_TO_PERSON["payload"]:
            await run_in_threadpool(_escalate_direct, state, conversation_id, "requested")
            outgoing, sender = [], SYSTEM
        else:
            outgoing = [{"text": RASA_DOWN, "buttons": [TALK_TO_PERSON], "kind": "bot_unavailable"}]
            sender = SYSTEM

    def save_replies() -> list[int]:
        with unit_of_work(state.sessions, state.bus) as uow:
            service = _service(uow, state)
            conversation = service.get(conversation_id)
            stored = service.add_bot_messages(
                conversation, reply_to=message_id, messages=outgoing, sender=sender
            )
            return [m.id for m in stored]

    ids = await run_in_threadpool(save_replies)
    return JSONResponse(await run_in_threadpool(_snapshot, state, conversation_id, ids))


def _mark_resumed(state, conversation_id: str) -> None:  # noqa: ANN001
    with unit_of_work(state.sessions, state.bus) as uow:
        service = _service(uow, state)
        service.mark_resumed(service.get(conversation_id))


def _escalate_direct(state, conversation_id: str, reason: str) -> None:  # noqa: ANN001
    with unit_of_work(state.sessions, state.bus) as uow:
        service = _service(uow, state)
        conversation = service.get(conversation_id)
        if reason == "requested" and service.latest_feedback_unhelpful(conversation):
            reason = "negative_feedback"
        last = service.last_customer_message(conversation)
        context = {
            "source": "gateway",
            "last_message": last.text if last else None,
            "nlu_history": [],
            "articles_tried": [],
            "note": "the customer asked for a person from the chat window",
        }
        service.escalate(conversation.id, reason=reason, context=context)


@router.post("/{conversation_id}/handoff")
async def request_person(
    conversation_id: str, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """ "Talk to a person": always reachable, even when the bot is down."""
    await run_in_threadpool(_auth, state, conversation_id, bearer(authorization))
    await run_in_threadpool(_escalate_direct, state, conversation_id, "requested")
    return JSONResponse(await run_in_threadpool(_snapshot, state, conversation_id, []))


@router.get("/{conversation_id}")
def get_conversation(
    conversation_id: str, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """Status and the full transcript the customer can see."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        return {
            "conversation_id": conversation.id,
            "status": conversation.status,
            "handoff": service.handoff_info(conversation),
            "messages": [message_out(m) for m in service.transcript(conversation)],
        }


@router.post("/{conversation_id}/feedback")
def feedback(
    conversation_id: str,
    body: FeedbackIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Thumbs up/down on one bot answer; a thumbs-down is answered with the offer of a person."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        try:
            service.feedback(conversation, message_id=body.message_id, helpful=body.helpful)
            offer = []
            if not body.helpful and conversation.status == BOT:
                offer = service.add_bot_messages(
                    conversation,
                    reply_to=body.message_id,
                    messages=[
                        {"text": UNHELPFUL, "buttons": [TALK_TO_PERSON], "kind": "handoff_offer"}
                    ],
                    sender=SYSTEM,
                )
            return {"messages": [message_out(m) for m in offer]}
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc


@router.post("/{conversation_id}/csat", status_code=status.HTTP_204_NO_CONTENT)
def csat(
    conversation_id: str,
    body: CsatIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Rates a resolved conversation 1-5."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        try:
            service.csat(conversation, score=body.score, comment=body.comment)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from exc


@router.post("/{conversation_id}/email", status_code=status.HTTP_204_NO_CONTENT)
def leave_email(
    conversation_id: str,
    body: EmailIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """When nobody is online: where the team should reply."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        service.leave_email(conversation, email=str(body.email))


@router.websocket("/{conversation_id}/ws")
async def conversation_ws(websocket: WebSocket, conversation_id: str) -> None:
    """Live agent replies and status changes (?token=the conversation token)."""
    state = websocket.app.state.supportbot
    try:
        await run_in_threadpool(_auth, state, conversation_id, websocket.query_params.get("token"))
    except HTTPException:
        await websocket.close(code=4401)
        return
    await websocket.accept()
    await stream(websocket, state.bus, conversation_channel(conversation_id), {"type": "ready"})
