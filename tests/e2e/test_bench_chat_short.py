"""`make bench-chat` cannot rot: its short version (1 customer, 30 turns, the floor) runs
against the real stack in `make test`. No thresholds: timings are for the benchmark."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.services import APP_PYTHON, ROOT, base_env

pytestmark = pytest.mark.e2e


def test_the_short_chat_benchmark_runs_and_every_turn_is_answered():
    done = subprocess.run(
        [str(APP_PYTHON), "-m", "bench.chat", "--short", "--no-save"],
        cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # turns, errors, retried, KB-answered
    cells = r"^\| 1 customers \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|"
    row = re.search(cells, done.stdout, re.M)
    assert row, done.stdout
    turns, errors, retried, answered = map(int, row.groups())
    assert (turns, errors, retried, answered) == (30, 0, 0, 30)
    assert re.search(r"Floor per message .* = \*\*[\d.]+ ms\*\*", done.stdout)
    assert re.search(r"Resident memory after the load: Rasa [\d.]+ MB", done.stdout)
