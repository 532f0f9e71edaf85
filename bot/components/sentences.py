"""Splitting a customer message into clauses, so each can be understood on its own.

Long messages bury what matters ("...I've tried everything, transfer me to someone from
customer service, it's about my order"). The featurizers embed each clause of a long message
as well as the whole, and the intent classifier labels each clause; the dialogue policy reads
those clause intents (a request for a person, anger, a disputed charge) beside the message's
overall intent.
"""

from __future__ import annotations

import re

# Clause boundaries: sentence ends, semicolons, line breaks, commas and dashes.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|[;\n]+|,\s+|\s+[-\u2013\u2014]+\s+")
MIN_WORDS = 3
MAX_PARTS = 12
# Messages with fewer words than this are understood whole.
MIN_MESSAGE_WORDS = 8

PARTS = "sentence_parts"  # message key: [{"text", "dense", "sparse"}] (not in the output)
INTENTS = "sentence_intents"  # output key: [{"text", "intent", "confidence"}]
EMBEDDING = "text_embedding"  # output key: {"model", "vector"} (knowledge_base/query_vector)


def clauses(text: str) -> list[str]:
    """The message's clauses (at least MIN_WORDS words each; short ones join the previous).

    Returns [] when the message is short or has a single clause: then the whole is enough.
    """
    if len(text.split()) < MIN_MESSAGE_WORDS:
        return []
    parts: list[str] = []
    for raw in _BOUNDARY.split(text):
        piece = raw.strip(" ,;-\u2013\u2014")
        if not piece:
            continue
        if parts and len(piece.split()) < MIN_WORDS:
            parts[-1] = f"{parts[-1]}, {piece}"
        elif not parts or len(parts[-1].split()) >= MIN_WORDS:
            parts.append(piece)
        else:
            parts[-1] = f"{parts[-1]}, {piece}"
    parts = [p for p in parts if len(p.split()) >= MIN_WORDS]
    return parts[:MAX_PARTS] if len(parts) > 1 else []
