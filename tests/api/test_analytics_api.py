"""Analytics API, dashboard page and /metrics: who may see what, CSV, parameter checks,
the metric names (the KPI values themselves: tests/handoff/test_analytics.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from api.metrics import count_rasa_error, observe_bot_reply
from handoff.agents import AgentService
from handoff.uow import unit_of_work

PASSWORD = "analytics-password-1"
SERVICE_TOKEN = "analytics-service-token"
METRICS_TOKEN = "analytics-metrics-token"
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(
        var_dir=tmp_path_factory.mktemp("analytics-var"),
        rasa_url="http://127.0.0.1:9",
        service_token=SERVICE_TOKEN,
        metrics_token=METRICS_TOKEN,
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def staff(client):
    """Bearer headers and ids of an admin, two agents and an editor."""
    state = client.app.state.supportbot
    people = {"root": "admin", "ana": "agent", "ben": "agent", "eve": "editor"}
    with unit_of_work(state.sessions, state.bus) as uow:
        for name, role in people.items():
            AgentService(uow.session).create(
                email=f"{name}@example.com", name=name.title(), role=role, password=PASSWORD
            )
    out = {}
    for name in people:
        login = client.post(
            "/api/auth/login", json={"email": f"{name}@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        out[name] = {"headers": {"Authorization": f"Bearer {token}"}, "id": me["id"]}
    client.cookies.clear()
    return out


def test_the_analytics_api_needs_an_agent_or_admin(client, staff):
    client.cookies.clear()
    assert client.get("/api/analytics/summary").status_code == 401
    customer = client.post("/api/conversations", json={}).json()["token"]
    as_customer = client.get(
        "/api/analytics/summary", headers={"Authorization": f"Bearer {customer}"}
    )
    assert as_customer.status_code == 401
    assert client.get("/api/analytics/summary", headers=staff["eve"]["headers"]).status_code == 403
    for who in ("ana", "root"):
        response = client.get("/api/analytics/summary", headers=staff[who]["headers"])
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
    listing = client.get("/api/analytics", headers=staff["ana"]["headers"]).json()
    assert "agents" in listing["tables"] and listing["per_agent"] == "your own row only"


def test_an_agent_sees_only_their_own_row_an_admin_everyone(client, staff):
    mine = client.get("/api/analytics/agents", headers=staff["ana"]["headers"]).json()
    assert [r["agent_id"] for r in mine["rows"]] == [staff["ana"]["id"]]
    everyone = client.get("/api/analytics/agents", headers=staff["root"]["headers"]).json()
    ids = {r["agent_id"] for r in everyone["rows"]}
    assert {staff["ana"]["id"], staff["ben"]["id"], staff["root"]["id"]} <= ids
    assert staff["eve"]["id"] not in ids  # editors answer no customers
    own_csv = client.get("/api/analytics/agents.csv", headers=staff["ben"]["headers"]).text
    assert len(list(csv.reader(io.StringIO(own_csv)))) == 2  # header + Ben


def test_tables_as_json_and_csv(client, staff):
    headers = staff["root"]["headers"]
    start, end = (TODAY - timedelta(days=13)).isoformat(), TODAY.isoformat()
    params = {"from": start, "to": end, "granularity": "day"}
    series = client.get("/api/analytics/series", params=params, headers=headers).json()
    assert series["from"] == start and series["to"] == end and len(series["rows"]) == 14
    assert series["columns"][:3] == ["bucket", "conversations", "contained"]
    as_csv = client.get("/api/analytics/series.csv", params=params, headers=headers)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f"supportbot-series-{start}-{end}.csv" in as_csv.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    assert lines[0] == series["columns"] and len(lines) == 15
    same = client.get("/api/analytics/series", params={**params, "format": "csv"}, headers=headers)
    assert same.text == as_csv.text
    for name in ("summary", "fcr", "csat", "reasons", "wait_times", "wait_series", "articles",
                 "stale_articles", "agents"):  # fmt: skip
        assert client.get(f"/api/analytics/{name}.csv", headers=headers).status_code == 200
    weekly = client.get(
        "/api/analytics/reasons", params={**params, "granularity": "week"}, headers=headers
    ).json()
    assert {r["reason"] for r in weekly["rows"]} >= {"requested", "sensitive_topic"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "'from' must be a date"),
        ({"to": "yesterday"}, "'to' must be a date"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "before"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 400"),
        ({"granularity": "hour"}, "granularity"),
        ({"format": "xml"}, "json or csv"),
        ({"from": "1999-12-31", "to": "2000-01-05"}, "2000-01-01 or later"),
    ],
)
def test_bad_parameters_are_a_422_that_says_why(client, staff, params, message):
    response = client.get("/api/analytics/series", params=params, headers=staff["ana"]["headers"])
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_an_unknown_table_is_a_404(client, staff):
    response = client.get("/api/analytics/everything", headers=staff["ana"]["headers"])
    assert response.status_code == 404 and "series" in response.json()["detail"]


def test_the_dashboard_page(client, staff):
    client.cookies.clear()
    signed_out = client.get("/analytics")
    assert signed_out.status_code == 200 and 'type="password"' in signed_out.text
    signed_in = client.post(
        "/login",
        data={"email": "ana@example.com", "password": PASSWORD, "next": "/analytics"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/analytics"
    page = client.get("/analytics")
    assert page.status_code == 200 and "<h1>Analytics</h1>" in page.text
    assert re.search(
        r'<script src="/static/[0-9a-f]+/staff/vendor/uPlot\.iife\.min\.js">', page.text
    )
    assert 'href="/analytics" aria-current="page"' in page.text  # in the navigation
    assert "your own row" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # The page's own API calls ride on the session cookie.
    assert client.get("/api/analytics/summary").status_code == 200
    client.cookies.clear()
    client.post("/login", data={"email": "eve@example.com", "password": PASSWORD,
                                "next": "/analytics"})  # fmt: skip
    assert client.get("/analytics").status_code == 403
    client.cookies.clear()


def metrics_text(client, headers) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_are_protected(client, staff):
    client.cookies.clear()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers=staff["ana"]["headers"]).status_code == 403
    for token in (METRICS_TOKEN, SERVICE_TOKEN):
        metrics_text(client, {"Authorization": f"Bearer {token}"})
    metrics_text(client, staff["root"]["headers"])  # an admin
    client.post("/login", data={"email": "root@example.com", "password": PASSWORD,
                                "next": "/analytics"})  # fmt: skip
    assert client.get("/metrics").status_code == 200  # an admin's session cookie
    client.cookies.clear()


def test_metrics_names_and_route_templates(client, staff):
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    client.get("/api/analytics/summary", headers=staff["ana"]["headers"])
    client.get("/no/such/page/123")
    observe_bot_reply(0.42)
    count_rasa_error("unavailable")
    with client.websocket_connect("/api/handoff/ws") as ws:
        ws.send_json({"type": "auth", "token": staff["ana"]["headers"]["Authorization"][7:]})
        ws.receive_json()
        during = metrics_text(client, headers)
    after = metrics_text(client, headers)
    for name in (
        "supportbot_http_request_duration_seconds_bucket",
        "supportbot_bot_reply_duration_seconds_count",
        "supportbot_bot_errors_total",
        "supportbot_queue_length",
        "supportbot_agents_online",
        "supportbot_websocket_connections",
        "process_cpu_seconds_total",
    ):
        assert name in after, name
    assert 'route="/api/analytics/{name}"' in after
    assert 'route="<unmatched>"' in after and "/no/such/page" not in after
    assert 'supportbot_bot_errors_total{component="rasa",kind="unavailable"}' in after
    assert 'supportbot_websocket_connections{route="/api/handoff/ws"} 1.0' in during
    assert 'supportbot_websocket_connections{route="/api/handoff/ws"} 0.0' in after
    assert re.search(r"^supportbot_agents_online \d", after, re.M)
