"""Which websites may embed the chat widget: CORS for the customer API, refusal for others.

The widget calls the customer chat API (``/api/conversations``) and Rasa's socket.io
protocol (``/socket.io``) from the shop's pages, which may live on another origin. Those
origins are listed in ``SUPPORTBOT_ALLOWED_ORIGINS``; a browser request from any other
origin is refused with a 403 that says how to allow it. Staff pages and their APIs are
same-origin only and get no CORS headers at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

# Paths a customer's browser reaches from a page with the widget.
EMBED_PREFIXES = ("/api/conversations", "/socket.io")
ALLOW_HEADERS = "authorization, content-type"
ALLOW_METHODS = "GET, POST, OPTIONS"


class OriginPolicy:
    """Exact origins, or ``scheme://host:*`` for any port of a host."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = [a.rstrip("/").lower() for a in allowed]
        patterns = []
        for origin in self.allowed:
            if origin.endswith(":*"):
                patterns.append(re.escape(origin[:-2]) + r"(?::\d{1,5})?")
            else:
                patterns.append(re.escape(origin))
        self._re = re.compile("^(?:" + "|".join(patterns) + ")$") if patterns else None

    def allows(self, origin: str | None) -> bool:
        return bool(origin and self._re and self._re.match(origin.rstrip("/").lower()))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def same_origin(origin: str, host: str | None) -> bool:
    """The page that sent the request is served by this app (scheme aside: proxies vary)."""
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()


class EmbedOriginMiddleware:
    """CORS for allowed embedding origins on the customer paths; 403 for other origins."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(
            EMBED_PREFIXES
        ):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None:  # not a browser (API clients, the action server, tests)
            await self.app(scope, receive, send)
            return
        allowed = same_origin(origin, _header(scope, b"host")) or self.policy.allows(origin)
        if scope["type"] == "websocket" or scope["path"].startswith("/socket.io"):
            if not allowed:
                await self._refuse(scope, receive, send, origin)
                return
            # Engine.IO answers its own CORS (configured with the same policy).
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
        ]
        preflight = scope["method"] == "OPTIONS" and _header(
            scope, b"access-control-request-method"
        )
        if not allowed and not preflight:
            # Readable by the refused page (CORS headers on the refusal only), so the site's
            # owner sees why in the widget instead of an opaque network error.
            await self._refuse(scope, receive, send, origin, extra=cors)
            return
        if preflight:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": cors
                    + [
                        (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                        (b"access-control-max-age", b"600"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers") or []) + cors}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, origin: str, extra: list | None = None
    ) -> None:
        detail = (
            f"origin {origin} may not use this assistant; "
            "add it to SUPPORTBOT_ALLOWED_ORIGINS to embed the widget there"
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403, "reason": detail[:120]})
            return
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"vary", b"Origin"),
                ]
                + [h for h in extra or [] if h[0] != b"vary"],
            }
        )
        await send({"type": "http.response.body", "body": body})
