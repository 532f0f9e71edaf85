"""Limits every HTTP request meets before any route parses it (and before auth).

- A body larger than ``SUPPORTBOT_MAX_REQUEST_BYTES`` is refused with 413, whether it
  announces its length or streams it: nothing over the limit is read into memory.
- A NUL character anywhere in the path, query or body (raw, ``%00`` or JSON ``\\u0000``) is
  refused with 422: PostgreSQL cannot store it in text, and no customer types one.

Pure ASGI, so WebSockets and streamed responses pass untouched.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A NUL in a URL or form (%00) or raw; in JSON, the escape \u0000 (an even number of
# backslashes before it: "\\u0000" is the text backslash-u-0000, which is allowed).
NUL = re.compile(rb"%00|\x00")
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if NUL.search(raw_path) or NUL.search(scope.get("query_string", b"")):
            await _answer(send, 422, "the address must not contain NUL characters")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _answer(send, 413, f"request body is larger than {self.max_bytes} bytes")
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and declared is None:
            await self.app(scope, receive, send)
            return
        # Read the body here, bounded, then hand the route exactly what was sent.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _answer(send, 413, f"request body is larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        form = b"form" in dict(scope.get("headers") or []).get(b"content-type", b"")
        if b"\x00" in body or JSON_NUL.search(body) or (form and b"%00" in body):
            await _answer(send, 422, "text must not contain NUL characters")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
