"""bot/serve.py: the Rasa server runs this bot's model without ever importing TensorFlow, and
a TensorFlow component used anyway fails with a message saying so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import serve

ROOT = Path(__file__).resolve().parents[2]

SERVE_THE_MODEL = """
import asyncio, glob, json, sys
from bot import serve
serve.install()
import rasa.__main__, rasa.cli.run, rasa.core.run, rasa.server  # what `rasa run` imports
from rasa.core.agent import Agent
agent = Agent.load(sorted(glob.glob("models/*.tar.gz"))[-1])
parsed = asyncio.run(agent.parse_message("where is my order NP-1234567"))
print(json.dumps({
    "intent": parsed["intent"]["name"],
    "embedding": sorted(parsed.get("text_embedding", {})),
    "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"),
}))
"""


def test_the_model_loads_and_answers_without_tensorflow():
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("needs a trained model: run `make train`")
    out = subprocess.run(
        [sys.executable, "-c", SERVE_THE_MODEL],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["intent"] == "order_tracking"
    assert result["embedding"] == ["model", "vector"]
    assert result["tensorflow"] == []


def test_a_stand_in_can_be_named_but_not_used():
    stand_in = serve._StandIn("DIETClassifier", (), {"__module__": "rasa.nlu.fake"})
    assert not isinstance(object(), stand_in)
    assert issubclass(type("Sub", (stand_in,), {}), stand_in)
    assert not hasattr(stand_in, "load")  # an AttributeError: probing code moves on
    with pytest.raises(serve.NeedsTensorFlow, match="plain `rasa run`"):
        stand_in.load({})
    with pytest.raises(serve.NeedsTensorFlow, match=r"rasa\.nlu\.fake\.DIETClassifier\(\)"):
        stand_in()


def test_the_heap_is_frozen_once_the_model_is_loaded(monkeypatch):
    import asyncio
    import gc

    import rasa.core.run

    loaded = []

    async def load_agent_on_start(*args):  # Rasa's loader, faked: it returns the agent
        loaded.append(args)
        return "agent"

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", load_agent_on_start)
    serve.freeze_after_load()
    wrapped = rasa.core.run.load_agent_on_start
    assert wrapped is not load_agent_on_start
    serve.freeze_after_load()
    assert rasa.core.run.load_agent_on_start is wrapped  # installed once, not wrapped twice
    try:
        assert gc.get_freeze_count() == 0
        assert asyncio.run(wrapped("models/x.tar.gz", None, None, "app", "loop")) == "agent"
        assert loaded == [("models/x.tar.gz", None, None, "app", "loop")]
        assert gc.get_freeze_count() > 1_000
    finally:
        gc.unfreeze()
