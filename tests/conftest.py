"""Test environment first, before anything imports the settings."""

from __future__ import annotations

import os
import tempfile

os.environ["SUPPORTBOT_ENVIRONMENT"] = "testing"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SUPPORTBOT_VAR_DIR", tempfile.mkdtemp(prefix="supportbot-test-"))

pytest_plugins = ["tests.db"]
