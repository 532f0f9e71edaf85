"""What a customer's words become on their way to the bot."""

from __future__ import annotations

TALK_TO_PERSON = {"title": "Talk to a person", "payload": "/request_human"}
# Button payloads a customer may send as-is. Any other "/intent" text would let a customer
# pick their own intent (e.g. "/billing_dispute" to jump the queue), so it is sent as words.
BUTTON_PAYLOADS = {"/request_human", "/affirm", "/deny"}


def for_bot(text: str, payload: str | None = None) -> str:
    """What the bot is sent: an allowed button payload, or the words without a leading '/'."""
    if payload in BUTTON_PAYLOADS:
        return payload
    text = text.strip()
    if text in BUTTON_PAYLOADS:
        return text
    # Strip every leading slash and space: "/ /billing_dispute" must not become an intent.
    return text.lstrip("/ \t") or text
