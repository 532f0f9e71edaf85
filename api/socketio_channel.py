"""Rasa's socket.io channel protocol, backed by our chat gateway and handoff.

A site already running a Rasa web widget (the community ``rasa-webchat``, or anything that
speaks Rasa's ``socketio`` channel) points its ``socketUrl`` at this app and gets the same
conversations, storage and human handoff as our own widget: agent replies and handoff status
arrive as ``bot_uttered`` in the same window.

Protocol (as in ``rasa/core/channels/socketio.py``, Rasa 3.6):
- client ``session_request`` ``{session_id}`` -> server ``session_confirm`` ``session_id``; a
  missing or unknown session id starts a new conversation and gets a new id;
- client ``user_uttered`` ``{message, session_id}`` -> server ``bot_uttered``
  ``{text, quick_replies?: [{content_type, title, payload}]}``, one per text part.

Our session id is ``<conversation id>.<conversation token>``: it is the customer's secret, as
the token is for the REST API, so another visitor cannot join someone's conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import socketio

from api.origins import OriginPolicy, same_origin
from handoff.chat import ChatService
from handoff.conversations import Conflict
from handoff.events import EventBus, conversation_channel
from handoff.ports import RateLimited

logger = logging.getLogger("supportbot.socketio")

MAX_MESSAGE_CHARS = 2000
CSAT_PAYLOAD = re.compile(r"^/csat_([1-5])$")
CSAT_BUTTONS = [
    {"content_type": "text", "title": str(n), "payload": f"/csat_{n}"} for n in range(1, 6)
]


def text_parts(message: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
    """One stored message as ``bot_uttered`` payloads (Rasa splits text on blank lines)."""
    text = message.get("text") or ""
    if message.get("sender") == "agent":
        text = f"**{message.get('agent_name') or 'Support'}:** {text}"
    for i, article in enumerate(message.get("articles") or []):
        url = article.get("url") or ""
        if url.startswith("/"):
            url = base_url.rstrip("/") + url
        label = "From our help center" if i == 0 else "See also"
        text += f"\n\n{label}: [{article.get('title', 'article')}]({url})"
    parts: list[dict[str, Any]] = [{"text": p} for p in text.strip().split("\n\n") if p.strip()]
    if not parts:
        return []
    buttons = message.get("buttons") or []
    if message.get("kind") == "csat_prompt":
        parts[-1]["quick_replies"] = list(CSAT_BUTTONS)
    elif buttons:
        parts[-1]["quick_replies"] = [
            {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
            for b in buttons
        ]
    return parts


class SocketIOChannel:
    """A python-socketio server mounted at ``/socket.io`` on the app."""

    def __init__(self, policy: OriginPolicy, base_url: str) -> None:
        # Set by the app's lifespan (they exist only while the app runs).
        self.chat: ChatService | None = None
        self.bus: EventBus | None = None
        self.base_url = base_url
        self.forwarders: dict[str, asyncio.Task] = {}

        def allow_origin(origin: str | None, environ: dict) -> bool:
            if not origin:  # not a browser: nothing to check
                return True
            return same_origin(origin, environ.get("HTTP_HOST")) or policy.allows(origin)

        self.sio = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins=allow_origin, logger=False
        )
        self.sio.on("connect", self.on_connect)
        self.sio.on("session_request", self.on_session_request)
        self.sio.on("user_uttered", self.on_user_uttered)
        self.sio.on("disconnect", self.on_disconnect)
        self.asgi = socketio.ASGIApp(self.sio, socketio_path=None)

    # ---- events -----------------------------------------------------------------------
    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        return True

    async def on_session_request(self, sid: str, data: Any) -> None:
        session_id = data.get("session_id") if isinstance(data, dict) else None
        conversation_id, token = self._parse(session_id)
        if not (conversation_id and await self._authorized(conversation_id, token)):
            conversation_id, token = await asyncio.to_thread(
                self.chat.start, metadata={"channel": "socketio"}
            )
            session_id = f"{conversation_id}.{token}"
        await self.sio.save_session(sid, {"conversation_id": conversation_id, "token": token})
        await self._forward(sid, conversation_id)
        await self.sio.emit("session_confirm", session_id, room=sid)

    async def on_user_uttered(self, sid: str, data: Any) -> None:
        session = await self.sio.get_session(sid)
        if not session or not isinstance(data, dict):
            return
        text = str(data.get("message") or "").strip()
        if not text:
            return
        if len(text) > MAX_MESSAGE_CHARS:
            await self._say(sid, f"Sorry, messages can be at most {MAX_MESSAGE_CHARS} characters.")
            return
        conversation_id, token = session["conversation_id"], session["token"]
        csat = CSAT_PAYLOAD.match(text)
        if csat:
            await self._rate(sid, conversation_id, token, int(csat.group(1)))
            return
        try:
            # Replies reach this socket through the live event stream (see _forward), the
            # same way agent replies do, so they are not emitted here as well.
            await self.chat.send(
                conversation_id=conversation_id, token=token, text=text, channel="socketio"
            )
        except RateLimited:
            await self._say(sid, "You're sending messages very fast; please wait a moment.")
        except Exception:  # noqa: BLE001 - never drop the socket over one message
            logger.exception("socket.io message for %s failed", conversation_id)
            await self._say(sid, "Sorry, something went wrong on our side. Please try again.")

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        task = self.forwarders.pop(sid, None)
        if task is not None:
            task.cancel()

    # ---- helpers -----------------------------------------------------------------------
    @staticmethod
    def _parse(session_id: Any) -> tuple[str | None, str | None]:
        if not isinstance(session_id, str) or "." not in session_id or len(session_id) > 200:
            return None, None
        conversation_id, _, token = session_id.partition(".")
        return conversation_id, token

    async def _authorized(self, conversation_id: str, token: str | None) -> bool:
        return await asyncio.to_thread(self.chat.authorized, conversation_id, token)

    async def _say(self, sid: str, text: str) -> None:
        await self.sio.emit("bot_uttered", {"text": text}, room=sid)

    async def _rate(self, sid: str, conversation_id: str, token: str, score: int) -> None:
        try:
            await asyncio.to_thread(
                self.chat.rate, conversation_id=conversation_id, token=token, score=score
            )
            await self._say(sid, f"Thanks for rating this conversation {score}/5!")
        except Conflict:
            await self._say(sid, "You can rate the conversation once it is resolved.")

    async def _forward(self, sid: str, conversation_id: str) -> None:
        """Streams the conversation's live events to this socket as ``bot_uttered``; returns
        once subscribed, so nothing published after ``session_confirm`` is missed."""
        old = self.forwarders.pop(sid, None)
        if old is not None:
            old.cancel()
        subscribed = asyncio.Event()
        self.forwarders[sid] = asyncio.create_task(self._pump(sid, conversation_id, subscribed))
        await subscribed.wait()

    async def _pump(self, sid: str, conversation_id: str, subscribed: asyncio.Event) -> None:
        last_position: int | None = None
        with contextlib.suppress(asyncio.CancelledError):
            async with self.bus.subscribe(conversation_channel(conversation_id)) as queue:
                subscribed.set()
                while True:
                    event = await queue.get()
                    if event.get("type") == "message":
                        message = event.get("message") or {}
                        if message.get("sender") == "customer":
                            continue  # the widget shows what its customer typed
                        for part in text_parts(message, self.base_url):
                            await self.sio.emit("bot_uttered", part, room=sid)
                    elif event.get("type") == "queue":
                        position = event.get("position")
                        if position and (last_position is None or position < last_position):
                            await self._say(sid, f"You're now number {position} in the queue.")
                        last_position = position
