"""Email for offline conversations: an agent's reply goes to the address the customer left
when nobody was online, with a link that reopens the chat.

Deliveries are rows (``email_deliveries``) written in the reply's transaction and sent after
it commits; the outcome is recorded on the row and as an internal note agents can see.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from handoff.config import HandoffSettings
from handoff.events import EventBus
from handoff.models import Conversation, EmailDelivery, Message
from handoff.uow import unit_of_work

logger = logging.getLogger("supportbot.mail")

RESUME_DAYS = 30


class SmtpSettings(BaseSettings):
    """``SUPPORTBOT_SMTP_*``: where replies to offline customers are sent from."""

    model_config = SettingsConfigDict(
        env_prefix="SUPPORTBOT_SMTP_", env_file=".env", extra="ignore"
    )

    host: str = ""  # empty = email off (agents are told the reply was not emailed)
    port: int = Field(587, ge=1, le=65535)
    username: str = ""
    password: str = ""
    # starttls: upgrade a plain connection (port 587); tls: TLS from the start (port 465);
    # none: local relays and tests only.
    security: str = Field("starttls", pattern="^(starttls|tls|none)$")
    sender: str = "Northpeak Support <support@northpeak.example>"
    timeout_s: float = Field(20.0, gt=0)

    @property
    def enabled(self) -> bool:
        return bool(self.host)


# ---- resume links --------------------------------------------------------------------------
def resume_key(secret: str, conversation_id: str, *, now: float | None = None) -> str:
    """A signed, expiring key that lets the customer reopen this conversation from email."""
    expires = int((now or time.time()) + RESUME_DAYS * 86400)
    payload = f"{conversation_id}:{expires}".encode()
    signature = hmac.new(secret.encode(), b"resume:" + payload, hashlib.sha256).digest()
    return f"{expires}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def check_resume_key(secret: str, conversation_id: str, key: str) -> bool:
    expires_s, _, signature = key.partition(".")
    # ASCII digits only: "²".isdigit() is true, and int("²") raises.
    if not (expires_s.isascii() and expires_s.isdigit()) or int(expires_s) < time.time():
        return False
    payload = f"{conversation_id}:{expires_s}".encode()
    expected = hmac.new(secret.encode(), b"resume:" + payload, hashlib.sha256).digest()
    got = signature + "=" * (-len(signature) % 4)
    try:
        return hmac.compare_digest(base64.urlsafe_b64decode(got), expected)
    except (ValueError, TypeError):
        return False


def resume_link(chat_url: str, secret: str, conversation_id: str) -> str:
    key = resume_key(secret, conversation_id)
    return f"{chat_url}#supportbot-resume={quote(conversation_id)}.{quote(key)}"


# ---- the email -------------------------------------------------------------------------
def reply_email(
    *, settings: SmtpSettings, to: str, agent_name: str, text: str, link: str, brand: str
) -> EmailMessage:
    """Plain text only: nothing a customer or agent wrote is ever interpreted as HTML."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = f"Re: your question to {brand} support"
    message.set_content(
        f"{agent_name} from {brand} support replied:\n\n{text}\n\n"
        f"Continue the conversation (your chat opens where you left it):\n{link}\n\n"
        f"-- {brand} support\n"
    )
    return message


async def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    import aiosmtplib

    await aiosmtplib.send(
        message,
        hostname=settings.host,
        port=settings.port,
        username=settings.username or None,
        password=settings.password or None,
        start_tls=settings.security == "starttls",
        use_tls=settings.security == "tls",
        timeout=settings.timeout_s,
    )


class Mailer:
    """Sends pending deliveries after the reply's transaction committed."""

    def __init__(
        self,
        settings: SmtpSettings,
        sessions: sessionmaker[Session],
        bus: EventBus,
        *,
        handoff: HandoffSettings,
        chat_url: str,
        secret: str,
        brand: str = "Northpeak",
    ) -> None:
        self.handoff = handoff
        self.settings = settings
        self.sessions = sessions
        self.bus = bus
        self.chat_url = chat_url
        self.secret = secret
        self.brand = brand

    async def deliver(self, delivery_id: int) -> None:
        from starlette.concurrency import run_in_threadpool

        prepared = await run_in_threadpool(self._prepare, delivery_id)
        if prepared is None:
            return
        message, conversation_id = prepared
        error = None
        try:
            await send_email(self.settings, message)
        except Exception as exc:  # noqa: BLE001 - recorded for the agent, never raised
            error = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("email for conversation %s failed: %s", conversation_id, error)
        await run_in_threadpool(self._record, delivery_id, error)

    def _prepare(self, delivery_id: int) -> tuple[EmailMessage, str] | None:
        with unit_of_work(self.sessions, self.bus) as uow:
            delivery = uow.session.get(EmailDelivery, delivery_id)
            if delivery is None or delivery.status != "pending":
                return None
            reply = uow.session.get(Message, delivery.message_id) if delivery.message_id else None
            if reply is None:
                return None
            message = reply_email(
                settings=self.settings,
                to=delivery.to_address,
                agent_name=(reply.data or {}).get("agent_name") or "Our team",
                text=reply.text,
                link=resume_link(self.chat_url, self.secret, delivery.conversation_id),
                brand=self.brand,
            )
            return message, delivery.conversation_id

    def _record(self, delivery_id: int, error: str | None) -> None:
        from handoff.conversations import ConversationService

        with unit_of_work(self.sessions, self.bus) as uow:
            delivery = uow.session.get(EmailDelivery, delivery_id)
            if delivery is None:
                return
            delivery.status = "failed" if error else "sent"
            delivery.error = error
            delivery.sent_at = None if error else datetime.now(UTC)
            conversation = uow.session.get(Conversation, delivery.conversation_id)
            note = (
                f"Could not email the reply to {delivery.to_address}: {error}"
                if error
                else f"Reply emailed to {delivery.to_address}"
            )
            ConversationService(uow, self.handoff).note(
                conversation, note, "email_failed" if error else "email_sent"
            )
