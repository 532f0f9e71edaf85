"""What the API fuzzer (test_fuzz_schema.py) found, pinned as plain regression tests: answers
that did not match the OpenAPI schema, and inputs that crashed instead of a 422."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

AUTH = {"Authorization": "Bearer dev-editor-token"}


def _aware(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() is not None


def test_article_times_carry_their_utc_offset(client):
    # SQLite returns stored times without offset; the schema says RFC 3339 date-time.
    slug = f"test-{uuid.uuid4().hex[:8]}"
    payload = {"slug": slug, "title": "Offsets", "body": "## Times\nWith their offset."}
    created = client.post("/api/kb/articles", json=payload, headers=AUTH).json()
    assert _aware(created["updated_at"]) and created["published_at"] is None

    published = client.post(f"/api/kb/articles/{slug}/publish", headers=AUTH).json()["article"]
    assert _aware(published["updated_at"]) and _aware(published["published_at"])
    listed = next(
        a for a in client.get("/api/kb/articles", headers=AUTH).json() if a["slug"] == slug
    )
    assert _aware(listed["updated_at"]) and _aware(listed["published_at"])

    client.put(f"/api/kb/articles/{slug}", json={"title": "Offsets 2"}, headers=AUTH)
    revisions = client.get(f"/api/kb/articles/{slug}/revisions", headers=AUTH).json()
    assert len(revisions) == 2 and all(_aware(r["created_at"]) for r in revisions)
    one = client.get(f"/api/kb/articles/{slug}/revisions/1", headers=AUTH).json()
    assert _aware(one["created_at"])
    restored = client.post(f"/api/kb/articles/{slug}/revisions/1/restore", headers=AUTH).json()
    assert _aware(restored["updated_at"])

    stale = client.put(
        f"/api/kb/articles/{slug}", json={"title": "Offsets 3", "base_revision": 1}, headers=AUTH
    )
    assert stale.status_code == 409
    assert _aware(stale.json()["conflict"]["created_at"])


@pytest.mark.parametrize("path", ["attach", "draft", "dismiss"])
def test_unanswered_message_ids_beyond_64_bits_are_a_422(client, path):
    # Was an OverflowError from the database driver (HTTP 500).
    body = {"message_ids": [2**63], "slug": "return-policy", "title": "Too big"}
    response = client.post(f"/api/kb/unanswered/{path}", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "message_ids", 0]
    body["message_ids"] = [0]
    assert client.post(f"/api/kb/unanswered/{path}", json=body, headers=AUTH).status_code == 422


@pytest.fixture(scope="module")
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "/api/kb/articles", {"401", "403", "422"}),
        ("put", "/api/kb/articles/{slug}", {"401", "403", "404", "409", "422"}),
        ("get", "/api/kb/articles/{slug}/diff", {"401", "403", "404", "422"}),
        ("post", "/api/kb/unanswered/attach", {"401", "403", "404", "409", "422"}),
        ("get", "/help/{slug}", {"404"}),
        ("post", "/api/auth/login", {"401", "422", "429"}),
        ("get", "/api/auth/me", {"401"}),
        ("post", "/api/handoff/escalations", {"200", "201", "401", "404", "422"}),
        (
            "post",
            "/api/handoff/conversations/{conversation_id}/claim",
            {"401", "403", "404", "409"},
        ),
        ("get", "/api/handoff/conversations", {"401", "403", "422"}),
        ("patch", "/api/admin/agents/{agent_id}", {"401", "403", "404", "409", "422"}),
    ],
)
def test_error_answers_are_documented(openapi, method, path, codes):
    documented = set(openapi["paths"][path][method]["responses"])
    assert codes <= documented


def test_a_422_may_be_a_sentence_as_documented(client, openapi):
    # Rules of an operation (an empty query, an invalid article) answer 422 with a sentence;
    # the schema used to promise only FastAPI's list of validation problems.
    response = client.get("/api/kb/search", params={"q": ""})
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)
    documented = openapi["paths"]["/api/kb/search"]["get"]["responses"]["422"]
    ref = documented["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    detail = openapi["components"]["schemas"][ref]["properties"]["detail"]
    assert {"type": "string"} in detail["anyOf"]
    assert any(option.get("type") == "array" for option in detail["anyOf"])
