"""What a customer does besides writing: thumbs on an answer, a rating, an email address
left for a reply, a conversation reopened from a reply email."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from handoff.agents import new_token, token_hash
from handoff.errors import Conflict, NotFound
from handoff.models import BOT_SENDER, ENDED, QUEUED, SYSTEM, Conversation, Feedback, Message
from handoff.service_base import ServiceBase

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EMAIL_THANKS = "Thanks! We'll reply to {email} as soon as we're back."


class CustomerActions(ServiceBase):
    def feedback(self, conversation: Conversation, *, message_id: int, helpful: bool) -> Feedback:
        message = self.repo.message(message_id)
        if (
            message is None
            or message.conversation_id != conversation.id
            or message.sender != BOT_SENDER
        ):
            raise NotFound("no bot answer with that id in this conversation")
        row = self.repo.feedback_for(message_id)
        if row is None:
            row = Feedback(
                conversation_id=conversation.id,
                message_id=message_id,
                helpful=helpful,
                article_slug=message.article_slug,
            )
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
                return row
            except IntegrityError:  # a second click raced in: update that row instead
                row = self.repo.feedback_for(message_id)
        row.helpful = helpful
        self.session.flush()
        return row

    def csat(self, conversation: Conversation, *, score: int, comment: str | None) -> None:
        if conversation.status not in ENDED:
            raise Conflict("the conversation can be rated once it is resolved")
        conversation.csat_score = score
        conversation.csat_comment = comment
        self._activity(
            conversation, f"Customer rated the conversation {score}/5", "csat", internal=True
        )

    def leave_email(self, conversation: Conversation, *, email: str) -> None:
        conversation.customer_email = email
        # Left because nobody was online: agent replies are emailed there too.
        conversation.channel = {**conversation.channel, "reply_by_email": True}
        self._activity(conversation, "Customer left an email address for a reply", "email_left")
        self.live.agents({"type": "conversation.updated", "conversation_id": conversation.id})

    def add_resume_token(self, conversation: Conversation) -> str:
        """Another token for this conversation (the customer reopened it from an email)."""
        token = new_token()
        extra = list(conversation.channel.get("extra_token_hashes") or [])[-4:]
        conversation.channel = {
            **conversation.channel,
            "extra_token_hashes": [*extra, token_hash(token)],
        }
        self.session.flush()
        return token

    def capture_email(self, conversation: Conversation, message: Message) -> list[int]:
        """Nobody online and the customer typed an email address in the chat: store it, as
        the email form would, and confirm; returns the confirmation's message ids."""
        found = EMAIL.search(message.text)
        if (
            found is None
            or conversation.status != QUEUED
            or conversation.customer_email
            or self.queue.agents_online() > 0
        ):
            return []
        email = found.group(0)
        self.leave_email(conversation, email=email)
        thanks = self.add_bot_messages(  # type: ignore[attr-defined] - ConversationService
            conversation,
            reply_to=message.id,
            messages=[{"text": EMAIL_THANKS.format(email=email), "kind": "email_captured"}],
            sender=SYSTEM,
        )
        return [m.id for m in thanks]
