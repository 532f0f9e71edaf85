#!/bin/sh
# The action server as supportbot runs it: loopback, token-protected (bot/action_server.py).
# Extra arguments (--port) are passed on.
set -e
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "${RASA_PYTHON:-.venv-rasa/bin/python}" -m bot.action_server "$@"
