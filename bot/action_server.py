"""The action server: ``python -m bot.action_server [--port 5055]``.

Rasa SDK's server, with three changes that matter because it holds the app's service token:
- it listens on loopback unless told otherwise (``SUPPORTBOT_ACTIONS_HOST``);
- every action call must carry ``Authorization: Bearer $SUPPORTBOT_ACTIONS_TOKEN``, which
  Rasa sends (bot/endpoints.yml ``action_endpoint.headers``): nobody else can post a made-up
  tracker and have it escalated;
- an error answers a short message, not the SDK's echo of the whole request (the tracker).
"""

from __future__ import annotations

import argparse
import gc
import hmac
import logging

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from bot.actions.config import get_settings

logger = logging.getLogger("supportbot.actions")
OPEN_PATHS = {"/health"}


def build_app(token: str) -> Sanic:
    app = create_app("bot.actions", cors_origins=None)
    expected = f"Bearer {token}".encode()

    @app.middleware("request")
    async def require_rasa_token(request: Request):  # noqa: ANN202
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "missing or invalid action server token"}, status=401)
        return None

    async def failed(request: Request, exception: Exception):  # noqa: ANN202
        logger.error("action call failed: %r", exception, exc_info=exception)
        return response.json({"error": "the action failed; see the action server log"}, 500)

    app.error_handler.add(Exception, failed)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = build_app(settings.actions_token)
    # What start-up made (Sanic, the SDK, the actions) lives as long as the process: frozen,
    # a full garbage collection skips it (one took 27 ms under load before; bot/serve.py).
    gc.collect()
    gc.freeze()
    logger.info("action server on http://%s:%d", settings.actions_host, args.port)
    app.run(settings.actions_host, args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
