from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    # Nothing listens on port 9: readiness must report Rasa as down, not hang.
    return Settings(var_dir=var, rasa_url="http://127.0.0.1:9")


@pytest.fixture(scope="session")
def client(app_settings) -> TestClient:
    with TestClient(create_app(app_settings)) as c:
        yield c
