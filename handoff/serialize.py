"""Messages as the API and live events show them."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from handoff.models import Message


def message_out(m: Message, *, agent_view: bool = False) -> dict[str, Any]:
    """A message as the API returns it (customers never get internal fields)."""
    out: dict[str, Any] = {
        "id": m.id,
        "sender": m.sender,
        "text": m.text,
        # SQLite hands back naive datetimes; every stored time is UTC.
        "created_at": (
            (m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC)).isoformat()
            if m.created_at
            else None
        ),
    }
    for key in ("articles", "buttons", "kind", "agent_name"):
        if m.data.get(key):
            out[key] = m.data[key]
    if m.client_message_id:  # lets the widget match its optimistic copy to the stored one
        out["client_message_id"] = m.client_message_id
    if agent_view:
        out["audience"] = m.audience
        out["agent_id"] = m.agent_id
        if m.data.get("suggestion"):
            out["suggestion"] = m.data["suggestion"]
    return out
