def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    body = response.json()
    # Rasa is not running in unit tests: not ready, and the detail says why.
    assert response.status_code == 503
    assert body["ready"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["backend"] == "sqlite"
    assert body["checks"]["index"]["ok"] is True
    assert body["checks"]["index"]["articles"] >= 41
    assert body["checks"]["rasa"]["ok"] is False
    assert "ConnectError" in body["checks"]["rasa"]["error"]


def test_the_apps_state_is_what_the_handoff_package_expects(client):
    from handoff.ports import AppState

    state = client.app.state.supportbot
    assert isinstance(state, AppState)
    for name in ("allow", "exceeded"):
        assert callable(getattr(state.limiter, name))
    for name in ("send", "resume", "restart", "set_slot"):
        assert callable(getattr(state.rasa, name))


def test_start_up_objects_are_frozen_out_of_the_collector(app_settings):
    import gc

    from fastapi.testclient import TestClient

    from api.main import create_app

    # A full collection over the start-up heap paused a customer's turn for 78 ms; the
    # lifespan freezes what start-up made, and unfreezes it when the app stops.
    with TestClient(create_app(app_settings)) as c:
        assert c.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the frameworks, the ORM, the model: not a handful
    assert gc.get_freeze_count() < frozen
