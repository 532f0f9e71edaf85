"""The NLU half of the compute floor (Rasa environment): the trained model's parse of each
message, in-process, no HTTP, no tracker. Used by ``make bench-chat``.

    .venv-rasa/bin/python -m bench.nlu_floor TEXTS.json  ->  {"parse_ms": [...], "cpu_ms": [...]}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def measure(texts: list[str]) -> dict[str, list[float]]:
    from rasa.core.agent import Agent

    models = sorted((ROOT / "models").glob("*.tar.gz"))
    agent = Agent.load(str(models[-1]))
    await agent.parse_message(texts[0])  # warm-up
    wall, cpu = [], []
    for text in texts * 3:
        start, start_cpu = time.perf_counter(), time.process_time()
        await agent.parse_message(text)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"parse_ms": wall, "cpu_ms": cpu}


def main() -> None:
    texts = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(measure(texts))))


if __name__ == "__main__":
    main()
