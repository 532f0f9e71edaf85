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
