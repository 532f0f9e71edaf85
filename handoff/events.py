"""Live events: in-process fan-out by default, Redis pub/sub when REDIS_URL is set.

Channels: ``conversation:<id>`` (the customer's widget) and ``agents`` (every agent console).
Publishing is safe from worker threads (sync routes) and from the event loop; events are
published only after the transaction that produced them committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

logger = logging.getLogger("supportbot.events")

AGENTS = "agents"
QUEUE_SIZE = 1000


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class EventBus:
    """In-process fan-out to asyncio queues (one app worker)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        return None

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Delivers ``event`` to every subscriber of ``channel`` (any thread)."""
        self._deliver(channel, event)

    def _deliver(self, channel: str, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for queue in list(self._subscribers.get(channel, ())):
            loop.call_soon_threadsafe(_put, queue, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        for channel in channels:
            self._subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            for channel in channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        del self._subscribers[channel]


def _put(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:  # a stalled client; it reloads the transcript on reconnect
        logger.warning("dropping live event for a slow subscriber")


class RedisEventBus(EventBus):
    """Publishes through Redis so every app worker's subscribers get every event."""

    PREFIX = "supportbot:"

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self.url = url
        self._redis = redis.Redis.from_url(url)
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        await super().start()
        self._redis.ping()  # fail at startup, not on the first event
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._redis.close()

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self._redis.publish(self.PREFIX + channel, json.dumps(event, default=str))

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(self.PREFIX + "*")
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        channel = message["channel"].decode().removeprefix(self.PREFIX)
                        self._deliver(channel, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # reconnect after a Redis outage
                logger.warning("redis event listener: %r; reconnecting", exc)
                await asyncio.sleep(1)
            finally:
                await client.aclose()


def make_bus(redis_url: str) -> EventBus:
    return RedisEventBus(redis_url) if redis_url else EventBus()


# A console re-checks its session this often (a revoked one closes within this time even
# when the revocation came from another process without a shared event bus).
RECHECK_S = 10.0
KEEPALIVE_S = 25.0


async def stream(  # noqa: ANN201
    websocket,  # noqa: ANN001
    bus: EventBus,
    channel: str,
    hello: dict[str, Any],
    still_allowed=None,  # noqa: ANN001 - async () -> bool, checked every RECHECK_S
    closes_on=None,  # noqa: ANN001 - (event) -> bool: this event ends the stream at once
):
    """Sends every event on ``channel`` to an accepted WebSocket until the client leaves
    (or, with ``still_allowed``, until its credentials stop being valid: logout, disabled)."""
    from starlette.websockets import WebSocketDisconnect

    async def drain() -> None:  # reads (and ignores) client frames until it goes away
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            return

    async with bus.subscribe(channel) as queue:
        await websocket.send_json(hello)
        receiver = asyncio.create_task(drain())
        loop = asyncio.get_running_loop()
        next_check = loop.time() + RECHECK_S
        last_sent = loop.time()
        try:
            while not receiver.done():
                # Checked on the clock, not only when idle: a busy stream must not keep a
                # revoked agent listening.
                if still_allowed and loop.time() >= next_check:
                    next_check = loop.time() + RECHECK_S
                    if not await still_allowed():
                        await websocket.close(code=4401)
                        return
                getter = asyncio.create_task(queue.get())
                timeout = KEEPALIVE_S
                if still_allowed:
                    timeout = min(timeout, max(0.0, next_check - loop.time()))
                done, _ = await asyncio.wait(
                    {getter, receiver}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    event = getter.result()
                    if closes_on is not None and closes_on(event):
                        await websocket.close(code=4401)
                        return
                    await websocket.send_json(event)
                    last_sent = loop.time()
                    continue
                getter.cancel()
                if loop.time() - last_sent >= KEEPALIVE_S:  # lets clients spot dead sockets
                    await websocket.send_json({"type": "ping"})
                    last_sent = loop.time()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            receiver.cancel()
