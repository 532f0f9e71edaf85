"""Limits every request meets: body size, NUL characters, metadata, per-action rate limits,
pages of transcripts and queues, client addresses behind proxies, limits shared in Redis."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from api.ratelimit import RedisRateLimiter
from handoff.config import HandoffSettings


def test_a_customer_messages_with_the_bot_about_control_characters_but_nul_is_422(handoff):
    cid, auth = handoff.new_conversation()
    url = f"/api/conversations/{cid}/messages"
    nul = handoff.client.post(url, json={"text": "refund\u0000please"}, headers=auth)
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    # The text "\u0000" typed as six characters is not a NUL and goes through.
    typed = handoff.client.post(url, json={"text": "what does \\u0000 mean"}, headers=auth)
    assert typed.status_code == 200
    bell = handoff.client.post(url, json={"text": "refund\u0007please"}, headers=auth)
    assert bell.status_code == 200
    texts = [m["text"] for m in handoff.client.get(f"/api/conversations/{cid}", headers=auth)
             .json()["messages"] if m["sender"] == "customer"]  # fmt: skip
    assert texts == ["what does \\u0000 mean", "refund\u0007please"]  # nothing half-stored


def test_nul_in_the_address_is_422_on_every_backend(handoff):
    _, auth = handoff.new_conversation()
    assert handoff.client.get("/api/conversations/abc%00def", headers=auth).status_code == 422
    assert handoff.client.get("/api/kb/search?q=refund%00").status_code == 422


def test_a_body_over_the_limit_is_413_before_any_route_reads_it(handoff):
    limit = handoff.client.app.state.supportbot.settings.max_request_bytes
    big = b'{"metadata": {"a": "' + b"x" * limit + b'"}}'
    response = handoff.client.post(
        "/api/conversations", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and "larger than" in response.json()["detail"]

    def chunks():  # no Content-Length: streamed, still cut off at the limit
        yield b'{"metadata": {"a": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    streamed = handoff.client.post(
        "/api/conversations", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("metadata", "detail"),
    [
        ({"page": "x" * 5000}, "bytes as JSON"),
        ({"a": {"b": {"c": {"d": 1}}}}, "nests deeper"),
    ],
)
def test_metadata_is_bounded_in_size_and_depth(handoff, metadata, detail):
    response = handoff.client.post("/api/conversations", json={"metadata": metadata})
    assert response.status_code == 422
    assert detail in str(response.json()["detail"])
    ok = handoff.client.post(
        "/api/conversations", json={"metadata": {"page": "/checkout", "utm": {"source": "x"}}}
    )
    assert ok.status_code == 201


def test_feedback_csat_and_email_are_rate_limited_per_conversation(handoff):
    cid, auth = handoff.new_conversation()
    reply = handoff.client.post(
        f"/api/conversations/{cid}/messages", json={"text": "how do returns work"}, headers=auth
    ).json()
    answer = reply["messages"][0]["id"]
    codes = [
        handoff.client.post(
            f"/api/conversations/{cid}/feedback",
            json={"message_id": answer, "helpful": True},
            headers=auth,
        ).status_code
        for _ in range(25)
    ]
    assert codes.count(429) == 5 and set(codes[:20]) == {200}
    emails = [
        handoff.client.post(
            f"/api/conversations/{cid}/email", json={"email": "a@example.com"}, headers=auth
        )
        for _ in range(7)
    ]
    assert [r.status_code for r in emails].count(429) == 2
    assert "Retry-After" in emails[-1].headers
    # Another conversation (and a stranger with no token) is not affected by this budget.
    other, other_auth = handoff.new_conversation()
    assert (
        handoff.client.post(
            f"/api/conversations/{other}/email", json={"email": "b@example.com"}, headers=other_auth
        ).status_code
        == 204
    )
    stranger = handoff.client.post(f"/api/conversations/{cid}/email", json={"email": "c@x.io"})
    assert stranger.status_code == 401


def test_transcripts_come_in_pages(handoff):
    cid, auth = handoff.new_conversation()
    for i in range(6):
        handoff.client.post(
            f"/api/conversations/{cid}/messages", json={"text": f"hello {i}"}, headers=auth
        )
    everything = handoff.client.get(f"/api/conversations/{cid}", headers=auth).json()
    assert everything["has_more"] is False
    first = handoff.client.get(f"/api/conversations/{cid}?limit=5", headers=auth).json()
    assert len(first["messages"]) == 5 and first["has_more"] is True
    rest = handoff.client.get(
        f"/api/conversations/{cid}?limit=500&after={first['messages'][-1]['id']}", headers=auth
    ).json()
    assert first["messages"] + rest["messages"] == everything["messages"]
    too_many = handoff.client.get(f"/api/conversations/{cid}?limit=501", headers=auth)
    assert too_many.status_code == 422

    handoff.escalate(cid)
    agent = handoff.agent("pager@example.com")
    detail = handoff.client.get(f"/api/handoff/conversations/{cid}?limit=3", headers=agent).json()
    assert len(detail["messages"]) == 3 and detail["has_more"] is True
    queue = handoff.client.get("/api/handoff/queue?limit=1", headers=agent).json()
    assert len(queue["queued"]) == 1 and queue["queued_total"] >= 1


def _app(tmp_path, **settings) -> TestClient:
    return TestClient(
        create_app(
            Settings(var_dir=tmp_path, service_token="test-service-token", **settings),
            HandoffSettings(conversations_per_ip_per_hour=2),
        )
    )


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path):
    def created(client: TestClient, forwarded_for: str) -> int:
        return client.post(
            "/api/conversations", json={}, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    # Not trusted (the default): every header value is the same client, the direct peer.
    with _app(tmp_path / "a") as client:
        codes = [created(client, f"203.0.113.{i}") for i in range(3)]
    assert codes == [201, 201, 429]
    # Behind a trusted proxy: each forwarded address has its own budget.
    with _app(tmp_path / "b", trusted_proxies="testclient") as client:
        codes = [created(client, "203.0.113.1") for _ in range(3)]
        assert codes == [201, 201, 429]
        assert created(client, "203.0.113.2") == 201


@pytest.mark.redis
def test_limits_in_redis_are_shared_by_every_worker():
    key = f"test:{uuid.uuid4()}"
    worker_a = RedisRateLimiter("redis://127.0.0.1:6379/5")
    worker_b = RedisRateLimiter("redis://127.0.0.1:6379/5")
    assert worker_a.allow(key, 3)[0] and worker_b.allow(key, 3)[0] and worker_a.allow(key, 3)[0]
    allowed, retry = worker_b.allow(key, 3)
    assert allowed is False and 0 < retry <= 60
    assert worker_a.exceeded(key, 3)[0] is True
    assert worker_a.exceeded(f"{key}:other", 3)[0] is False


def test_a_redis_outage_lets_requests_through():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")  # nothing listens there
    assert limiter.allow("k", 1) == (True, 0.0)
    assert limiter.exceeded("k", 1) == (False, 0.0)


@pytest.mark.redis
def test_the_app_uses_redis_limits_when_redis_is_configured(tmp_path):
    settings = Settings(var_dir=tmp_path, redis_url="redis://127.0.0.1:6379/5")
    with TestClient(create_app(settings)) as client:
        assert isinstance(client.app.state.supportbot.limiter, RedisRateLimiter)


def test_a_resume_key_with_non_ascii_digits_is_refused_not_a_500(handoff):
    cid, _ = handoff.new_conversation()
    response = handoff.client.post(f"/api/conversations/{cid}/resume", json={"key": "²3.x"})
    assert response.status_code == 403


def test_a_non_ascii_identity_hash_is_ignored_not_a_500(tmp_path):
    with _app(tmp_path, identity_secret="s3cret-identity-key-1") as client:
        response = client.post("/api/conversations", json={"user": {"id": "0", "hash": "\u0080"}})
    assert response.status_code == 201 and response.json()["identified"] is False
