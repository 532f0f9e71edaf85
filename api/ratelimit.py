"""Sliding-window rate limits per key (conversation, client IP): per app worker in memory,
or shared by all workers through Redis when ``SUPPORTBOT_REDIS_URL`` is set."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque

logger = logging.getLogger("supportbot.ratelimit")


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._windows: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def exceeded(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(over the limit, seconds until a slot frees) without counting a hit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return False, 0.0
            recent = [t for t in hits if t > now - window_s]
            if len(recent) >= limit:
                return True, max(0.0, recent[0] + window_s - now)
            return False, 0.0

    def allow(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(allowed, seconds until the next slot). Counts the hit only when allowed."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window_s:
                hits.popleft()
            if len(hits) >= limit:
                return False, max(0.0, hits[0] + window_s - now)
            hits.append(now)
            self._windows[key] = window_s
            if now >= self._next_sweep:  # forget idle keys, each after its own window
                self._next_sweep = now + 60
                for stale in [
                    k
                    for k, v in self._hits.items()
                    if not v or v[-1] < now - self._windows.get(k, 60)
                ]:
                    del self._hits[stale]
                    self._windows.pop(stale, None)
            return True, 0.0


class RedisRateLimiter:
    """The same limits shared by every app worker (and machine) through Redis: a moving
    window per key, kept by the ``limits`` library. If Redis fails, requests are let through
    (and logged): a limiter outage must not take the chat down."""

    def __init__(self, url: str, *, namespace: str = "supportbot") -> None:
        from limits import storage, strategies

        self._storage = storage.storage_from_string(url)
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        self.namespace = namespace

    @staticmethod
    def _item(limit: int, window_s: float):  # noqa: ANN205
        from limits import RateLimitItemPerSecond

        return RateLimitItemPerSecond(limit, max(1, round(window_s)))

    def allow(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(allowed, seconds until the next slot). Counts the hit only when allowed."""
        item = self._item(limit, window_s)
        try:
            if self._limiter.hit(item, self.namespace, key):
                return True, 0.0
            stats = self._limiter.get_window_stats(item, self.namespace, key)
        except Exception:  # noqa: BLE001 - fail open, loudly
            logger.exception("rate limiter: Redis unavailable; allowing %s", key)
            return True, 0.0
        return False, max(0.0, stats.reset_time - time.time())

    def exceeded(self, key: str, limit: int, window_s: float = 60.0) -> tuple[bool, float]:
        """(over the limit, seconds until a slot frees) without counting a hit."""
        item = self._item(limit, window_s)
        try:
            if self._limiter.test(item, self.namespace, key):
                return False, 0.0
            stats = self._limiter.get_window_stats(item, self.namespace, key)
        except Exception:  # noqa: BLE001
            logger.exception("rate limiter: Redis unavailable; allowing %s", key)
            return False, 0.0
        return True, max(0.0, stats.reset_time - time.time())


def make_limiter(redis_url: str) -> RateLimiter | RedisRateLimiter:
    """Per worker in memory (the embedded default), or shared through Redis."""
    return RedisRateLimiter(redis_url) if redis_url else RateLimiter()
