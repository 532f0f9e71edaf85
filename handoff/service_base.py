"""What every conversation service shares: the unit of work, the read queries, live
events, the transcript's activity lines and the compare-and-set that keeps concurrent
agents from overwriting each other. Services flush; they never commit (handoff/uow.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from handoff.config import HandoffSettings
from handoff.errors import Conflict, NotFound
from handoff.live import Live
from handoff.models import INTERNAL, PUBLIC, SYSTEM, Conversation, Message
from handoff.queue import QueueService
from handoff.repository import Repository
from handoff.uow import UnitOfWork


class ServiceBase:
    def __init__(self, uow: UnitOfWork, settings: HandoffSettings) -> None:
        self.uow = uow
        self.session = uow.session
        self.settings = settings
        self.queue = QueueService(self.session, settings)
        self.repo = Repository(self.session)
        self.live = Live(uow, self.queue, self.repo)

    def get(self, conversation_id: str) -> Conversation:
        conversation = self.repo.conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        return conversation

    def _compare_and_set(self, conversation: Conversation, **values: Any) -> None:
        """Writes ``values`` only if status and owner are still what this request read.

        Two agents acting at once (resolve vs claim, release vs reassign, reply vs resolve)
        cannot overwrite each other: the loser gets Conflict (HTTP 409). Atomic on SQLite and
        PostgreSQL; the row stays locked until this request commits.
        """
        owner = conversation.assigned_agent_id
        result = self.session.execute(
            update(Conversation)
            .where(
                Conversation.id == conversation.id,
                Conversation.status == conversation.status,
                Conversation.assigned_agent_id.is_(None)
                if owner is None
                else Conversation.assigned_agent_id == owner,
            )
            .values(updated_at=datetime.now(UTC), **values)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(conversation)
        if result.rowcount != 1:
            raise Conflict(f"conversation changed meanwhile (now {conversation.status}); reload it")

    def _activity(
        self,
        conversation: Conversation,
        text: str,
        kind: str,
        *,
        internal: bool = False,
        **data: Any,
    ) -> None:
        """A line in the transcript saying what happened (joined, resolved, rated, ...)."""
        message = Message(
            conversation_id=conversation.id,
            sender=SYSTEM,
            audience=INTERNAL if internal else PUBLIC,
            text=text,
            agent_id=data.pop("agent_id", None),
            data={"kind": kind, **data},
        )
        self.session.add(message)
        self.session.flush()
        self.live.message(conversation, message)
