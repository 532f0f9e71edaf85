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


def new_token() -> str:
    """A secret bearer token (agents' sessions, conversations); only its hash is stored."""
    return secrets.token_urlsafe(32)


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

    def get(self, agent_id: int) -> Agent | None:
        return self.session.get(Agent, agent_id)

    def _active_admins(self) -> int:
        return len(
            self.session.scalars(
                select(Agent.id).where(Agent.role == "admin", Agent.is_active)
            ).all()
        )

    def _keep_an_admin(self, agent: Agent, *, role: str, active: bool) -> None:
        losing = agent.role == "admin" and agent.is_active and (role != "admin" or not active)
        if losing and self._active_admins() <= 1:
            raise AgentError("at least one active admin must remain")

    def set_role(self, agent: Agent, role: str) -> None:
        """A new role; their sessions end (what they may open changed)."""
        if role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        self._keep_an_admin(agent, role=role, active=agent.is_active)
        if role != agent.role:
            agent.role = role
            self.revoke_all(agent.id)

    def set_active(self, agent: Agent, active: bool) -> None:
        """Disabling ends every session at once; enabling lets them sign in again."""
        self._keep_an_admin(agent, role=agent.role, active=active)
        agent.is_active = active
        if not active:
            agent.last_seen_at = None
            self.revoke_all(agent.id)

    def set_password(self, agent: Agent, password: str) -> None:
        """A new password (argon2id); existing sessions end."""
        if len(password) < 10:
            raise AgentError("password must be at least 10 characters")
        agent.password_hash = _hasher.hash(password)
        self.revoke_all(agent.id)

    def rename(self, agent: Agent, name: str) -> None:
        if not name.strip() or len(name.strip()) > 120:
            raise AgentError("name is required (at most 120 characters)")
        agent.name = name.strip()

    def revoke_all(self, agent_id: int) -> None:
        """Every bearer token and session cookie of this account stops working."""
        self.session.execute(delete(AgentToken).where(AgentToken.agent_id == agent_id))
        self.session.flush()

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
        token = new_token()
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
