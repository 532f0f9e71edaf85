"""Live events after a change (published by the unit of work after commit), and what a
waiting customer is told: place in the queue, expected wait, who is answering."""

from __future__ import annotations

from typing import Any

from handoff.events import AGENTS, conversation_channel
from handoff.models import ASSIGNED, PUBLIC, QUEUED, Conversation, Message
from handoff.queue import QueueService
from handoff.repository import Repository
from handoff.serialize import message_out
from handoff.uow import UnitOfWork


class Live:
    def __init__(self, uow: UnitOfWork, queue: QueueService, repo: Repository) -> None:
        self.uow = uow
        self.queue = queue
        self.repo = repo

    def handoff_info(self, conversation: Conversation) -> dict[str, Any] | None:
        """What the customer is told while a person owns (or will own) the conversation."""
        if conversation.status not in (QUEUED, ASSIGNED):
            return None
        position = self.queue.position(conversation)
        online = self.queue.agents_online()
        agent = self.repo.agent(conversation.assigned_agent_id)
        return {
            "reason": conversation.reason,
            "position": position,
            "expected_wait_s": self.queue.expected_wait_s(position) if online else None,
            "agents_online": online > 0,
            "email_on_file": bool(conversation.customer_email),
            "agent_name": agent.name if agent else None,
        }

    def snapshot(self, conversation: Conversation, reply_ids: list[int]) -> dict[str, Any]:
        """What a customer turn returns: the replies to show, the status, the handoff."""
        replies = [self.repo.message(i) for i in reply_ids]
        return {
            "messages": [message_out(m) for m in replies if m is not None],
            "status": conversation.status,
            "handoff": self.handoff_info(conversation),
        }

    def agents(self, event: dict[str, Any]) -> None:
        self.uow.emit(AGENTS, event)

    def message(self, conversation: Conversation, message: Message) -> None:
        if message.audience == PUBLIC:
            self.uow.emit(
                conversation_channel(conversation.id),
                {
                    "type": "message",
                    "conversation_id": conversation.id,
                    "message": message_out(message),
                },
            )
        self.agents(
            {
                "type": "message",
                "conversation_id": conversation.id,
                "status": conversation.status,
                "message": message_out(message, agent_view=True),
            }
        )

    def status(self, conversation: Conversation) -> None:
        self.uow.emit(
            conversation_channel(conversation.id),
            {
                "type": "status",
                "conversation_id": conversation.id,
                "status": conversation.status,
                "handoff": self.handoff_info(conversation),
            },
        )
        self.queue_positions(skip=conversation.id)

    def queue_positions(self, *, skip: str | None = None) -> None:
        """Every waiting customer's widget learns its new place and expected wait."""
        queued = self.queue.queued()
        if not queued:
            return
        online = self.queue.agents_online() > 0
        average = self.queue.average_wait_s() if online else None
        for position, waiting in enumerate(queued, start=1):
            if waiting.id == skip:
                continue
            self.uow.emit(
                conversation_channel(waiting.id),
                {
                    "type": "queue",
                    "conversation_id": waiting.id,
                    "status": QUEUED,
                    "position": position,
                    "expected_wait_s": round(average * position) if average is not None else None,
                    "agents_online": online,
                },
            )
