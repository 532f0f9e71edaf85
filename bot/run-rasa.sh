#!/bin/sh
# The Rasa server as supportbot runs it (make run, tests, benchmarks, the Docker image):
# HTTP API on loopback and token-protected, the app's authenticated channel only
# (bot/credentials.yml), actions called with their own token (bot/endpoints*.yml).
# Extra arguments (--port, --endpoints, --model) are passed to `rasa run`, which runs without
# TensorFlow (bot/serve.py: this model never uses it; ~550 MB less resident memory).
set -e
: "${SUPPORTBOT_RASA_TOKEN:=dev-rasa-token}"
: "${SUPPORTBOT_ACTIONS_TOKEN:=dev-actions-token}"
: "${SUPPORTBOT_ACTIONS_URL:=http://127.0.0.1:5055/webhook}"
export SUPPORTBOT_RASA_TOKEN SUPPORTBOT_ACTIONS_TOKEN SUPPORTBOT_ACTIONS_URL
cd "$(dirname "$0")/.."
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "${RASA_PYTHON:-.venv-rasa/bin/python}" -m bot.serve \
  run --enable-api --auth-token "$SUPPORTBOT_RASA_TOKEN" \
  --interface "${RASA_INTERFACE:-127.0.0.1}" --credentials bot/credentials.yml "$@"
