"""The agent queue: order, positions, expected wait, who is online."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.config import HandoffSettings
from handoff.hours import is_open
from handoff.models import QUEUED, Agent, Conversation, Escalation


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class QueueService:
    def __init__(self, session: Session, settings: HandoffSettings) -> None:
        self.session = session
        self.settings = settings

    def queued(self) -> list[Conversation]:
        """Queued conversations: highest priority first, then longest waiting."""
        return list(
            self.session.scalars(
                select(Conversation)
                .where(Conversation.status == QUEUED)
                .order_by(
                    Conversation.priority.desc(), Conversation.queued_at.asc(), Conversation.id
                )
            )
        )

    def position(self, conversation: Conversation) -> int | None:
        """1-based place in the queue (None when not queued)."""
        if conversation.status != QUEUED or conversation.queued_at is None:
            return None
        ahead = self.session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.status == QUEUED,
                (Conversation.priority > conversation.priority)
                | (
                    (Conversation.priority == conversation.priority)
                    & (Conversation.queued_at < conversation.queued_at)
                ),
            )
        )
        return int(ahead or 0) + 1

    def average_wait_s(self) -> float:
        """Moving average of the most recent waits from escalation to claim."""
        rows = self.session.execute(
            select(Escalation.created_at, Escalation.claimed_at)
            .where(Escalation.claimed_at.is_not(None))
            .order_by(Escalation.claimed_at.desc())
            .limit(self.settings.wait_average_window)
        ).all()
        if not rows:
            return float(self.settings.default_wait_s)
        waits = [(_aware(c) - _aware(e)).total_seconds() for e, c in rows]
        return max(0.0, sum(waits) / len(waits))

    def expected_wait_s(self, position: int | None) -> int | None:
        if position is None:
            return None
        return round(self.average_wait_s() * position)

    def agents_online(self, now: datetime | None = None) -> int:
        """Agents seen recently, counted only within business hours."""
        now = now or datetime.now(UTC)
        if not is_open(self.settings.business_hours, self.settings.timezone, now):
            return 0
        since = now - timedelta(seconds=self.settings.agent_online_window_s)
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Agent)
                .where(
                    Agent.is_active, Agent.role.in_(("agent", "admin")), Agent.last_seen_at >= since
                )
            )
            or 0
        )
