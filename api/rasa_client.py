"""The gateway's client for the Rasa server: the app's channel and tracker events."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from api.metrics import count_rasa_error, observe_bot_reply
from handoff.ports import BotUnavailable

logger = logging.getLogger("supportbot.rasa")
CHANNEL_PATH = "/webhooks/supportbot/webhook"


class RasaUnavailable(BotUnavailable):
    """Rasa could not be reached or failed; the customer is told, nothing is lost."""


class RasaClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, *, token: str = "") -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def _post(
        self,
        path: str,
        payload: Any,
        *,
        params: dict | None = None,
        headers: dict | None = None,
    ) -> httpx.Response:
        last: Exception | None = None
        for attempt in range(2):  # one retry, on connection errors only
            try:
                response = await self.http.post(
                    f"{self.base_url}{path}", json=payload, params=params, headers=headers
                )
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                last = exc
                logger.warning("rasa %s attempt %d failed: %r", path, attempt + 1, exc)
                continue
            except httpx.HTTPError as exc:  # timeouts: do not resend, the bot may be answering
                count_rasa_error("timeout")
                raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code >= 400:  # 401 (token), 404, 5xx: all mean "no bot answer"
                count_rasa_error(f"http_{response.status_code}")
                raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
            return response
        count_rasa_error("connect")
        raise RasaUnavailable(f"{type(last).__name__}: {last}")

    async def send(
        self, *, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The customer's message through the REST channel; returns our messages."""
        started = time.perf_counter()
        try:
            response = await self._channel(
                {"sender": sender, "message": text, "metadata": metadata}
            )
            try:
                replies = response.json()
            except ValueError as exc:
                count_rasa_error("invalid_reply")
                raise RasaUnavailable("Rasa returned invalid JSON") from exc
            if not isinstance(replies, list):
                count_rasa_error("invalid_reply")
                raise RasaUnavailable("Rasa returned something other than a list of messages")
            return bot_messages(replies)
        finally:
            observe_bot_reply(time.perf_counter() - started)

    async def _channel(self, payload: dict[str, Any]) -> httpx.Response:
        """The app's own channel (bot/channels.py): bearer token in a header."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return await self._post(CHANNEL_PATH, payload, headers=headers)

    async def _events(self, sender: str, events: list[dict[str, Any]]) -> None:
        # Rasa's HTTP API takes its --auth-token only as a query parameter; Rasa listens on
        # loopback (or a private network) and writes no access log, so it stays there.
        params = {"token": self.token}
        await self._post(f"/conversations/{sender}/tracker/events", events, params=params)

    async def resume(self, sender: str) -> None:
        """Un-pauses the Rasa conversation after a person handed it back."""
        await self._events(sender, [{"event": "resume"}])

    async def restart(self, sender: str) -> None:
        """A fresh Rasa session (slots reset) for a conversation that ended and reopened."""
        await self._channel({"sender": sender, "message": "/session_start"})

    async def set_slot(self, sender: str, name: str, value: Any) -> None:
        """Tells the bot about something that happened outside it (a thumbs-down offer)."""
        await self._events(sender, [{"event": "slot", "name": name, "value": value}])


def bot_messages(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa REST output -> our messages: article citations (custom payloads) join the text."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        custom = reply.get("custom") or {}
        if reply.get("text"):
            messages.append(
                {
                    "text": reply["text"],
                    "buttons": [
                        {"title": b.get("title", ""), "payload": b.get("payload", "")}
                        for b in reply.get("buttons") or []
                    ],
                }
            )
        if custom.get("articles") and messages:
            messages[-1]["articles"] = custom["articles"]
        if custom.get("end") and messages:  # the bot resolved the conversation
            messages[-1]["end"] = str(custom["end"])
        if custom.get("unanswered") and messages:  # the help center had no answer
            messages[-1]["unanswered"] = str(custom["unanswered"])[:32]
    return messages
