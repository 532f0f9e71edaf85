"""The action server's client to the app, over a real socket (aiohttp on both ends)."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiohttp import web

from bot.actions.clients.app import AppClient, AppUnavailable
from bot.actions.config import ActionSettings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_search_posts_the_question_with_the_service_token():
    seen: list[dict] = []

    async def search(request: web.Request) -> web.Response:
        seen.append({"auth": request.headers.get("Authorization"), **await request.json()})
        return web.json_response(
            {"results": [{"slug": "return-policy", "title": "Returns", "score": 0.7,
                          "answer_score": 0.6}], "threshold": 0.45}
        )  # fmt: skip

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/api/kb/search", search)
        runner = web.AppRunner(app)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            settings = ActionSettings(app_url=f"http://127.0.0.1:{port}", service_token="s" * 20)
            client = AppClient(settings)
            for _ in range(2):  # the second request reuses the pooled session
                response = await client.search("how do I return boots?", intents={"x": 0.5})
            assert response.threshold == 0.45
            assert response.results[0].slug == "return-policy"
            assert response.results[0].answer_score == 0.6
        finally:
            await runner.cleanup()

    asyncio.run(scenario())
    assert seen[0] == {"auth": "Bearer " + "s" * 20, "q": "how do I return boots?", "k": 3,
                       "exclude": [], "intents": {"x": 0.5}}  # fmt: skip
    assert len(seen) == 2


def test_nobody_listening_is_app_unavailable():
    settings = ActionSettings(app_url=f"http://127.0.0.1:{_free_port()}", http_timeout_s=2)
    with pytest.raises(AppUnavailable):
        asyncio.run(AppClient(settings).search("anything"))


def test_a_body_that_is_not_json_is_app_unavailable():
    async def fake(method, url, headers, body):  # noqa: ANN001, ANN202
        return 200, b"<html>proxy error</html>"

    settings = ActionSettings(app_url="http://app.test")
    with pytest.raises(AppUnavailable, match="invalid JSON"):
        asyncio.run(AppClient(settings, transport=fake).escalate(json.loads("{}")))
