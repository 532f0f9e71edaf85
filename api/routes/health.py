"""Liveness and readiness probes."""

from __future__ import annotations

import logging
import time

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.db import ping
from api.deps import StateDep

logger = logging.getLogger("supportbot.health")
router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "Not ready: the checks say which dependency is down"}},
)
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: database reachable, search index loaded, Rasa server answering."""
    checks: dict[str, dict] = {}

    started = time.perf_counter()
    try:
        await run_in_threadpool(ping, state.engine)
        checks["database"] = {"ok": True, "backend": state.engine.dialect.name}
    except Exception as exc:  # report, never raise: this endpoint describes failures
        # The error class only: the text can hold host names and credentials (logged).
        logger.warning("readiness: database check failed: %r", exc)
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["database"]["ms"] = round((time.perf_counter() - started) * 1000, 1)

    checks["index"] = {
        "ok": len(state.index) > 0,
        "passages": len(state.index),
        "articles": len(state.index.hashes),
        "kind": state.index.kind,
    }

    started = time.perf_counter()
    try:
        response = await state.http.get(
            f"{state.settings.rasa_url}/status",
            params={"token": state.settings.rasa_token},
            timeout=3.0,
        )
        body = response.json() if response.status_code == 200 else {}
        checks["rasa"] = {
            "ok": response.status_code == 200 and bool(body.get("model_file")),
            "model": body.get("model_file"),
            "status_code": response.status_code,
        }
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("readiness: Rasa check failed: %r", exc)
        checks["rasa"] = {"ok": False, "error": type(exc).__name__}
    checks["rasa"]["ms"] = round((time.perf_counter() - started) * 1000, 1)

    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
