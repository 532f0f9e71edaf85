"""Sliding-window rate limits per key (conversation, client IP), per app worker."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


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
