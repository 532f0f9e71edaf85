"""The app's channel into Rasa: Rasa's REST channel, but only for the app.

Rasa's own ``rest`` channel takes a message for any conversation id from anyone who can
reach the port, skipping the customer's conversation token the app checks. This one answers
only requests with the app's bearer token (``SUPPORTBOT_RASA_TOKEN``, in
bot/credentials.yml), keeps the metadata it stores in the tracker small, and is the only
channel Rasa serves. Loaded by Rasa from bot/credentials.yml (``bot.channels.AppInput``).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

# Metadata Rasa stores with every turn: the app sends a few short fields (see
# handoff/chat.py); anything bigger is dropped rather than stored again per turn.
MAX_METADATA_BYTES = 4096


class AppInput(RestInput):
    """POST /webhooks/supportbot/webhook {sender, message, metadata} with the app's token."""

    @classmethod
    def name(cls) -> str:
        return "supportbot"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AppInput:
        token = str((credentials or {}).get("token") or "")
        if not token:
            raise ValueError(
                "bot/credentials.yml: the supportbot channel needs a token "
                "(set SUPPORTBOT_RASA_TOKEN for Rasa and the app alike)"
            )
        return cls(token)

    def __init__(self, token: str) -> None:
        self.expected = f"Bearer {token}".encode()

    def authorized(self, request: Request) -> bool:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, self.expected)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = (request.json or {}).get("metadata")
        if not isinstance(metadata, dict):
            return None
        if len(json.dumps(metadata, default=str)) > MAX_METADATA_BYTES:
            return None
        return metadata

    def blueprint(self, on_new_message) -> Blueprint:  # noqa: ANN001
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def require_app_token(request: Request):  # noqa: ANN202
            if request.method == "POST" and not self.authorized(request):
                return response.json({"error": "missing or invalid app token"}, status=401)
            return None

        return webhook
