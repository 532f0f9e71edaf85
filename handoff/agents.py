"""Agent accounts, password hashing (argon2id) and bearer/session tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handoff.models import Agent, AgentToken

ROLES = ("agent", "editor", "admin")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Verifying against this keeps unknown-email logins as slow as wrong-password ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AgentError(ValueError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AgentService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, email: str, name: str, role: str, password: str) -> Agent:
        """A new agent account; the password is stored as an argon2id hash."""
        email = email.strip().lower()
        if not EMAIL_RE.match(email):
            raise AgentError(f"invalid email {email!r}")
        if role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AgentError("password must be at least 10 characters")
        if not name.strip():
            raise AgentError("name is required")
        if self.by_email(email):
            raise AgentError(f"an agent with email {email} exists already")
        agent = Agent(
            email=email, name=name.strip(), role=role, password_hash=_hasher.hash(password)
        )
        self.session.add(agent)
        self.session.flush()
        return agent

    def by_email(self, email: str) -> Agent | None:
        return self.session.scalars(
            select(Agent).where(Agent.email == email.strip().lower())
        ).first()

    def list(self) -> list[Agent]:
        return list(self.session.scalars(select(Agent).order_by(Agent.email)))

    def authenticate(self, *, email: str, password: str) -> Agent | None:
        agent = self.by_email(email)
        try:
            _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if agent is None or not agent.is_active:
            return None
        if _hasher.check_needs_rehash(agent.password_hash):
            agent.password_hash = _hasher.hash(password)
        return agent

    def issue_token(self, agent: Agent, *, ttl_hours: int) -> str:
        token = secrets.token_urlsafe(32)
        self.session.add(
            AgentToken(
                token_hash=token_hash(token),
                agent_id=agent.id,
                expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
            )
        )
        self.session.flush()
        return token

    def for_token(self, token: str) -> Agent | None:
        """The active agent a token belongs to; marks the agent as seen (online)."""
        row = self.session.get(AgentToken, token_hash(token))
        if row is None or _aware(row.expires_at) < datetime.now(UTC):
            return None
        agent = self.session.get(Agent, row.agent_id)
        if agent is None or not agent.is_active:
            return None
        now = datetime.now(UTC)
        if agent.last_seen_at is None or now - _aware(agent.last_seen_at) > timedelta(seconds=15):
            self.session.execute(update(Agent).where(Agent.id == agent.id).values(last_seen_at=now))
        return agent

    def revoke(self, token: str) -> None:
        self.session.execute(delete(AgentToken).where(AgentToken.token_hash == token_hash(token)))

    def set_offline(self, agent_id: int) -> None:
        self.session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=None))
