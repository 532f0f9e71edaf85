"""Line diffs between article revisions (for the editor's history and stale-edit 409s)."""

from __future__ import annotations

import difflib
from typing import Any

CONTEXT = 3


def line_diff(old: str, new: str, *, context: int = CONTEXT) -> list[dict[str, Any]]:
    """``[{op: same|add|del|gap, text}]``: changed lines with ``context`` lines around them."""
    a, b = old.splitlines(), new.splitlines()
    out: list[dict[str, Any]] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append({"op": "gap", "text": "\u2026"})
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [{"op": "same", "text": line} for line in a[i1:i2]]
                continue
            if tag in ("replace", "delete"):
                out += [{"op": "del", "text": line} for line in a[i1:i2]]
            if tag in ("replace", "insert"):
                out += [{"op": "add", "text": line} for line in b[j1:j2]]
    return out


def revision_diff(old: Any, new: Any) -> dict[str, Any]:
    """What changed between two revisions (rows or articles with title/body/questions)."""
    fields = {}
    for name in ("title", "category", "intent"):
        before, after = getattr(old, name, ""), getattr(new, name, "")
        if before != after:
            fields[name] = {"from": before, "to": after}
    old_q, new_q = (
        list(getattr(old, "questions", []) or []),
        list(getattr(new, "questions", []) or []),
    )
    return {
        "fields": fields,
        "body": line_diff(old.body, new.body),
        "questions_added": [q for q in new_q if q not in old_q],
        "questions_removed": [q for q in old_q if q not in new_q],
    }
