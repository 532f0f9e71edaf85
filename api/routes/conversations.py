"""Customer chat gateway: conversations, messages (to Rasa while the bot owns them), live
updates, feedback and ratings. Customers authenticate with their conversation's token."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    status,
)
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, Field, field_validator
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep
from api.rasa_client import RasaUnavailable
from handoff.bot_input import TALK_TO_PERSON
from handoff.conversations import Conflict, ConversationService, NotFound, Unauthorized, message_out
from handoff.deps import bearer
from handoff.events import conversation_channel, stream
from handoff.identity import verify as verify_identity
from handoff.mailer import check_resume_key
from handoff.models import BOT, SYSTEM
from handoff.openapi import errors
from handoff.ports import RateLimited
from handoff.uow import unit_of_work

logger = logging.getLogger("supportbot.gateway")
router = APIRouter(prefix="/api/conversations", tags=["customer chat"])
WS_AUTH_TIMEOUT_S = 10.0

# Each of these adds a transcript line and a live event to every agent console: counted
# per conversation, after its token is checked (a stranger cannot use up the budget).
FEEDBACK_PER_MINUTE = 20
CSAT_PER_MINUTE = 5
EMAIL_PER_MINUTE = 5
MAX_PAGE = 500

UNHELPFUL = (
    "Sorry that didn't help. Would you like to talk to a person? They'll see this conversation."
)


class UserIn(BaseModel):
    """A logged-in shopper, vouched for by the shop (``hash`` = HMAC-SHA256 of ``id``)."""

    id: str = Field(min_length=1, max_length=255)
    hash: str = Field(min_length=1, max_length=128)
    name: str | None = Field(None, max_length=120)
    email: EmailStr | None = None


MAX_METADATA_BYTES = 2048  # as JSON; stored once, sent to Rasa with every message
MAX_METADATA_DEPTH = 3  # {"page": {"utm": {"source": "x"}}} at most


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


class ConversationCreate(BaseModel):
    # Channel info from the widget (page URL, locale); stored, forwarded to Rasa as metadata.
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=20)
    # Ignored unless SUPPORTBOT_IDENTITY_SECRET is set and the hash verifies.
    user: UserIn | None = None

    @field_validator("metadata")
    @classmethod
    def _small_and_flat(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(metadata, ensure_ascii=False).encode())
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is {size} bytes as JSON; at most {MAX_METADATA_BYTES}")
        if _depth(metadata) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata nests deeper than {MAX_METADATA_DEPTH} levels")
        return metadata


class ConversationCreated(BaseModel):
    conversation_id: str
    token: str
    # True when data-user-hash verified: the conversation is linked to that shopper.
    identified: bool = False


class MessageIn(BaseModel):
    text: str = Field(min_length=1)
    client_message_id: str | None = Field(None, min_length=1, max_length=64)
    # A quick-reply button's payload (e.g. "/affirm"): the bot gets it, the transcript
    # keeps the button's words in ``text``. Only the bot's own button payloads are accepted.
    payload: str | None = Field(None, max_length=64)


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
            "too many requests; please wait a moment",
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


@router.post(
    "",
    response_model=ConversationCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(422, 429),
)
def create_conversation(
    body: ConversationCreate, request: Request, state: StateDep
) -> ConversationCreated:
    """Starts a conversation; the token is the customer's secret for it (keep it private)."""
    _rate(state, f"new:{client_ip(request)}", state.handoff.conversations_per_ip_per_hour, 3600)
    identity = None
    if body.user is not None:
        identity = verify_identity(
            user_id=body.user.id,
            user_hash=body.user.hash,
            secret=state.settings.identity_secret,
            name=body.user.name,
            email=str(body.user.email) if body.user.email else None,
        )
        if identity is None:
            logger.info("ignoring an unverified widget identity")
    conversation_id, token = state.chat.start(metadata=body.metadata, identity=identity)
    return ConversationCreated(
        conversation_id=conversation_id, token=token, identified=identity is not None
    )


@router.post("/{conversation_id}/messages", responses=errors(401, 413, 422, 429))
async def send_message(
    conversation_id: str,
    body: MessageIn,
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Stores the message, then lets the bot answer while it owns the conversation."""
    if len(body.text) > state.handoff.max_message_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"message is longer than {state.handoff.max_message_chars} characters",
        )
    _rate(state, f"ip:{client_ip(request)}", state.handoff.rate_per_ip)
    try:
        snapshot = await state.chat.send(
            conversation_id=conversation_id,
            token=bearer(authorization),
            text=body.text,
            client_message_id=body.client_message_id,
            payload=body.payload,
        )
    except Unauthorized as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    except RateLimited as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(max(1, round(exc.retry_after)))},
        ) from exc
    return JSONResponse(snapshot)


@router.post("/{conversation_id}/handoff", responses=errors(401, 422))
async def request_person(
    conversation_id: str, state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """ "Talk to a person": always reachable, even when the bot is down."""
    try:
        snapshot = await state.chat.request_person(
            conversation_id=conversation_id, token=bearer(authorization)
        )
    except Unauthorized as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    return JSONResponse(snapshot)


class ResumeIn(BaseModel):
    key: str = Field(min_length=1, max_length=200)


@router.post(
    "/{conversation_id}/resume",
    response_model=ConversationCreated,
    responses=errors(403, 404, 422, 429),
)
def resume_from_email(
    conversation_id: str, body: ResumeIn, request: Request, state: StateDep
) -> ConversationCreated:
    """The link in a reply email: a signed key becomes a token for this conversation, so the
    customer continues where they left off on any device."""
    _rate(state, f"resume:{client_ip(request)}", 20, 3600)
    if not check_resume_key(state.settings.secret_key, conversation_id, body.key):
        raise HTTPException(403, "this link is invalid or has expired; start a new chat")
    with unit_of_work(state.sessions, state.bus) as uow:
        service = _service(uow, state)
        try:
            conversation = service.get(conversation_id)
        except NotFound as exc:
            raise HTTPException(404, "this conversation no longer exists") from exc
        token = service.add_resume_token(conversation)
        identified = bool(conversation.customer_user_id)
    return ConversationCreated(conversation_id=conversation_id, token=token, identified=identified)


@router.get("/{conversation_id}", responses=errors(401, 422))
def get_conversation(
    conversation_id: str,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="messages after this id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> dict[str, Any]:
    """Status and the transcript the customer can see, oldest first, a page at a time
    (``has_more``: ask again with ``after`` = the last message's id)."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        page = service.repo.transcript(conversation, after=after, limit=limit + 1)
        return {
            "conversation_id": conversation.id,
            "status": conversation.status,
            "handoff": service.live.handoff_info(conversation),
            "csat_score": conversation.csat_score,
            "messages": [message_out(m) for m in page[:limit]],
            "has_more": len(page) > limit,
        }


@router.post("/{conversation_id}/feedback", responses=errors(401, 404, 422, 429))
async def feedback(
    conversation_id: str,
    body: FeedbackIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Thumbs up/down on one bot answer; a thumbs-down is answered with the offer of a person."""

    def record() -> tuple[list[dict[str, Any]], bool]:
        with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
            _rate(state, f"feedback:{conversation_id}", FEEDBACK_PER_MINUTE)
            try:
                service.feedback(conversation, message_id=body.message_id, helpful=body.helpful)
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from exc
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
            return [message_out(m) for m in offer], bool(offer)

    messages, offered = await run_in_threadpool(record)
    if offered:
        # The bot learns about the offer, so a typed "yes please" takes it (negative_feedback).
        try:
            await state.rasa.set_slot(conversation_id, "bot_move", "offer:negative_feedback")
        except RasaUnavailable as exc:
            logger.warning("could not tell the bot about the offer in %s: %s", conversation_id, exc)
    return {"messages": messages}


@router.post(
    "/{conversation_id}/csat",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 409, 422, 429),
)
def csat(
    conversation_id: str,
    body: CsatIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Rates a resolved conversation 1-5."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        _rate(state, f"csat:{conversation_id}", CSAT_PER_MINUTE)
        try:
            service.csat(conversation, score=body.score, comment=body.comment)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from exc


@router.post(
    "/{conversation_id}/email",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 422, 429),
)
def leave_email(
    conversation_id: str,
    body: EmailIn,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """When nobody is online: where the team should reply."""
    with _customer(state, conversation_id, bearer(authorization)) as (service, conversation):
        _rate(state, f"email:{conversation_id}", EMAIL_PER_MINUTE)
        service.leave_email(conversation, email=str(body.email))


@router.websocket("/{conversation_id}/ws")
async def conversation_ws(websocket: WebSocket, conversation_id: str) -> None:
    """Live agent replies, status and queue position. The first frame the client sends is
    ``{"type": "auth", "token": "<conversation token>"}`` (kept out of URLs and logs)."""
    state = websocket.app.state.supportbot
    await websocket.accept()
    try:
        first = await asyncio.wait_for(websocket.receive_json(), timeout=WS_AUTH_TIMEOUT_S)
        token = first.get("token") if first.get("type") == "auth" else None
        await run_in_threadpool(_auth, state, conversation_id, token)
    except Exception:  # noqa: BLE001 - timeout, bad frame, wrong token: all mean "no"
        await websocket.close(code=4401)
        return
    await stream(websocket, state.bus, conversation_channel(conversation_id), {"type": "ready"})
