"""Texts the custom actions send (the domain holds the ones rules send)."""

from __future__ import annotations

TALK_TO_PERSON = {"title": "Talk to a person", "payload": "/request_human"}

SUPPORT_CONTACTS = (
    "help@northpeak.example or 1-800-555-0142 (Mon-Fri 8:00-20:00, Sat-Sun 9:00-17:00 MT)"
)

ASK_REPHRASE = (
    "Sorry, I didn't quite get that. Could you say it another way? For example: "
    '"Where is my order?" or "How do I return boots?"'
)
APP_UNREACHABLE = (
    "Sorry, I can't reach our help center right now. Please try again in a minute, "
    f"or contact us at {SUPPORT_CONTACTS}."
)
HANDOFF_UNREACHABLE = (
    "Sorry, I couldn't reach our support team from here just now. Please try again in a "
    f"minute, or contact us at {SUPPORT_CONTACTS}."
)
NO_KB_ANSWER = (
    "I couldn't find an answer to that in our help center. Would you like me to bring in a "
    "person from our team? Or you can ask it another way."
)
