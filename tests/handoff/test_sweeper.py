"""The background sweeper stops between sweeps: a sweep under way finishes first, so its
database connection is back in the pool before the app disposes of the engine."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import handoff.idle as idle
from handoff.config import HandoffSettings


def run_alone(scenario):  # noqa: ANN001, ANN201
    """On its own thread and event loop: another test may leave one running on this thread
    (Playwright's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result()


def test_stopping_waits_for_the_sweep_under_way_to_finish(monkeypatch):
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_close_idle(sessions, bus, settings) -> int:  # noqa: ANN001
        started.set()
        release.wait(5)
        finished.set()
        return 0

    monkeypatch.setattr(idle, "close_idle", slow_close_idle)

    async def scenario() -> tuple[bool, bool]:
        stop = asyncio.Event()
        task = asyncio.create_task(
            idle.sweep_forever(None, None, HandoffSettings(), None, every_s=0.01, stop=stop)
        )
        while not started.is_set():
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.sleep(0.2)
        done_while_sweeping = task.done()
        release.set()
        await asyncio.wait_for(task, 5)
        return done_while_sweeping, finished.is_set()

    done_while_sweeping, sweep_finished = run_alone(scenario)
    assert done_while_sweeping is False  # it did not walk away from the running sweep
    assert sweep_finished is True


def test_stopping_between_sweeps_ends_the_wait_at_once(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(idle, "close_idle", lambda *a: calls.append(1) or 0)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            idle.sweep_forever(None, None, HandoffSettings(), None, every_s=3600, stop=stop)
        )
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 2)  # not an hour

    run_alone(scenario)
    assert calls == []
