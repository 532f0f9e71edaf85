"""Error answers as the OpenAPI schema documents them.

Every 4xx the API gives is ``{"detail": ...}`` (FastAPI's ``HTTPException``). A 422 is either
FastAPI's list of validation problems or, when the request was well-formed but broke a rule
of the operation (an empty search query, an invalid email), a sentence.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ErrorOut(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    model_config = ConfigDict(extra="allow")  # "input", "ctx", "url" depend on the problem

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[ValidationProblem] | str


class ConflictOut(ErrorOut):
    # A stale article edit: who saved what since the revision the edit started from.
    conflict: dict[str, Any] | None = None


DESCRIPTIONS = {
    401: "Not signed in, or the token is not valid (any more)",
    403: "Signed in without the role this needs, or a cookie request without its CSRF token",
    404: "Not found",
    409: "The current state does not allow this (e.g. someone else changed it first)",
    413: "Too large",
    422: "The request is not valid (a list of problems) or breaks a rule (a sentence)",
    429: "Too many requests: wait ``Retry-After`` seconds",
}


def errors(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: these error codes with their schema; a description can be
    overridden per route as ``e404="no such article"``."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = ValidationErrorOut if code == 422 else ConflictOut if code == 409 else ErrorOut
        description = descriptions.get(f"e{code}", DESCRIPTIONS[code])
        out[code] = {"model": model, "description": description}
    return out
