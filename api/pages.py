"""Server-rendered pages: Jinja2 templates (autoescaped), versioned static URLs and the
security headers every page sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.assets import assets

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["static"] = assets.url


def content_security_policy(request: Request) -> str:
    """Only this app's own scripts, styles and sockets; no inline script, no framing."""
    host = request.headers.get("host", "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A template as an HTML response with a strict Content-Security-Policy."""
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code)
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(SECURITY_HEADERS)
    return response
