"""Faults and a flood against the real stack, small: `make bench-reliability --short`.

One run (bench/reliability.py, its own Rasa, action server and app, restartable): 20
scripted conversations, 5 at a time, while the app, the Rasa server and the action server
are each SIGKILLed once and started again; then a 30-second flood of 30 customers (3 of
them spamming feedback, CSAT and email) while the stack recovers. Nothing is written to
bench/results; the run's logs and database stay in pytest's temporary directory.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.reliability import Config, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    # On its own thread: a browser test may leave Playwright's event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run, Config.short_run(), tmp_path_factory.mktemp("reliability")).result()


def examples(results: dict, key: str) -> str:
    where = f"(logs and database: {results['logs']})"
    return json.dumps(results["fault"]["examples"][key], indent=1, default=str)[:3000] + where


def test_each_process_was_killed_once_and_came_back(results):
    fault = results["fault"]
    assert fault["kills"] == {"actions": 1, "rasa": 1, "app": 1}
    assert all(len(fault["restart_s"][p]) == 1 for p in fault["kills"])
    assert fault["conversations"] == 20
    assert fault["gave_up"] == []


def test_no_customer_message_is_lost_or_stored_twice(results):
    fault = results["fault"]
    assert fault["messages_lost"] == 0, examples(results, "lost")
    assert fault["messages_duplicated"] == 0, examples(results, "duplicated")


def test_nothing_is_left_unanswered_once_the_stack_is_back(results):
    assert results["fault"]["unanswered_after_recovery"] == 0, examples(results, "unanswered")


def test_no_conversation_is_left_inconsistent(results):
    assert results["fault"]["inconsistent"] == 0, examples(results, "inconsistent")


def test_no_5xx_while_every_process_is_up(results):
    assert results["fault"]["5xx_while_up"] == 0, examples(results, "5xx_while_up")


def test_every_turn_gets_an_honest_reply(results):
    fault = results["fault"]
    assert fault["silent_turns"] == 0, examples(results, "silent")
    assert fault["answered_with_nothing"] == 0, examples(results, "answered_with_nothing")
    assert fault["outage_notice_while_up"] == 0, examples(results, "outage_notice_while_up")


def test_the_flood_spam_gets_429_and_well_behaved_customers_do_not(results):
    flood = results["flood"]
    assert flood["5xx"] == 0, flood["examples"]["5xx"]
    assert all(flood["spam_429"][kind] > 0 for kind in ("feedback", "csat", "email")), flood
    assert flood["spam_over_limit"] == 0, flood["examples"]["spam_over_limit"]
    assert flood["well_behaved_429"] == 0, flood["statuses"]
    assert flood["well_behaved_errors"] == 0, flood["statuses"]
    assert flood["well_behaved_messages"] >= 30
