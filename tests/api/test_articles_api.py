"""Editor API: auth, drafts, revisions, publish -> search, delete, bad input, sanitisation."""

from __future__ import annotations

import uuid

import pytest

AUTH = {"Authorization": "Bearer dev-editor-token"}


def slug() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def new_article(client, s, body="## Overview\nA Northpeak test article body.", **extra):
    payload = {"slug": s, "title": f"Title {s}", "body": body, "category": "Test", **extra}
    response = client.post("/api/kb/articles", json=payload, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/kb/articles"),
        ("post", "/api/kb/articles"),
        ("get", "/api/kb/articles/return-policy"),
        ("put", "/api/kb/articles/return-policy"),
        ("delete", "/api/kb/articles/return-policy"),
        ("post", "/api/kb/articles/return-policy/publish"),
        ("get", "/api/kb/articles/return-policy/revisions"),
    ],
)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "dev-editor-token"}]
)
def test_editor_endpoints_require_the_editor_token(client, method, path, headers):
    response = getattr(client, method)(
        path, headers=headers, **({"json": {}} if method in ("post", "put") else {})
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_demo_articles_were_imported_and_published_on_first_start(client):
    articles = client.get("/api/kb/articles", headers=AUTH).json()
    demo = {a["slug"]: a for a in articles if not a["slug"].startswith("test-")}
    assert len(demo) >= 41
    assert demo["return-policy"]["status"] == "published"
    assert demo["return-policy"]["author"] == "initial import"


def test_publish_makes_an_edit_searchable_without_full_rebuild(client):
    s = slug()
    created = new_article(
        client, s, body="## Llama trekking\nNorthpeak does not rent llamas for treks."
    )
    assert created["status"] == "draft" and created["revision"] == 1
    question = {"q": "can I rent a llama for my trek", "k": 3}
    assert s not in [
        r["slug"] for r in client.get("/api/kb/search", params=question).json()["results"]
    ]

    published = client.post(f"/api/kb/articles/{s}/publish", headers=AUTH).json()
    assert published["article"]["status"] == "published"
    assert published["embedded_passages"] == 1  # only this article was embedded
    top = client.get("/api/kb/search", params=question).json()["results"][0]
    assert top["slug"] == s and top["section"] == "Llama trekking"

    edited = client.put(
        f"/api/kb/articles/{s}",
        headers=AUTH,
        json={
            "body": "## Alpaca trekking\nNorthpeak rents alpacas in Boulder for $40 a day.",
            "base_revision": 1,
        },
    ).json()
    assert edited["revision"] == 2 and edited["status"] == "changed"
    # Not live until published: search still shows revision 1.
    top = client.get("/api/kb/search", params={"q": "alpaca rental price boulder", "k": 1}).json()[
        "results"
    ][0]
    assert not (top["slug"] == s and top["section"] == "Alpaca trekking")
    assert (
        client.post(f"/api/kb/articles/{s}/publish", headers=AUTH).json()["embedded_passages"] == 1
    )
    top = client.get("/api/kb/search", params={"q": "alpaca rental price boulder", "k": 1}).json()[
        "results"
    ][0]
    assert top["slug"] == s and top["section"] == "Alpaca trekking"

    revisions = client.get(f"/api/kb/articles/{s}/revisions", headers=AUTH).json()
    assert [(r["number"], r["published"]) for r in revisions] == [(2, True), (1, False)]
    assert all(r["author"] == "automation (editor token)" for r in revisions)


def test_stale_edit_is_a_409_and_loses_nothing(client):
    s = slug()
    new_article(client, s)
    assert (
        client.put(
            f"/api/kb/articles/{s}", headers=AUTH, json={"title": "First", "base_revision": 1}
        ).status_code
        == 200
    )
    stale = client.put(
        f"/api/kb/articles/{s}", headers=AUTH, json={"title": "Second", "base_revision": 1}
    )
    assert stale.status_code == 409
    assert "saved revision 2" in stale.json()["detail"]
    conflict = stale.json()["conflict"]
    assert conflict["latest_revision"] == 2
    assert conflict["author"] == "automation (editor token)"
    assert conflict["changes"]["fields"]["title"]["to"] == "First"
    assert client.get(f"/api/kb/articles/{s}", headers=AUTH).json()["title"] == "First"


def test_unchanged_save_creates_no_revision(client):
    s = slug()
    created = new_article(client, s)
    again = client.put(f"/api/kb/articles/{s}", headers=AUTH, json={"body": created["body"]}).json()
    assert again["revision"] == 1


def test_duplicate_slug_is_a_409(client):
    s = slug()
    new_article(client, s)
    response = client.post(
        "/api/kb/articles", headers=AUTH, json={"slug": s, "title": "x", "body": "y"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    "payload",
    [
        {"slug": "Bad Slug", "title": "t", "body": "b"},
        {"slug": "ok-slug", "title": "", "body": "b"},
        {"slug": "ok-slug", "title": "t", "body": ""},
        {"slug": "ok-slug", "title": "t", "body": "x" * 100_001},
        {"slug": "ok-slug", "title": "t"},
        {"slug": "ok-slug", "title": "t", "body": "b", "tags": "not-a-list"},
    ],
)
def test_bad_article_payloads_are_422_and_store_nothing(client, payload):
    before = client.get("/api/kb/articles", headers=AUTH).json()
    response = client.post("/api/kb/articles", headers=AUTH, json=payload)
    assert response.status_code == 422
    after = client.get("/api/kb/articles", headers=AUTH).json()
    assert [a["slug"] for a in after] == [a["slug"] for a in before]


def test_unknown_article_is_404(client):
    for method, path in [
        ("get", "/api/kb/articles/nope"),
        ("post", "/api/kb/articles/nope/publish"),
        ("delete", "/api/kb/articles/nope"),
        ("get", "/api/kb/articles/nope/revisions"),
    ]:
        assert getattr(client, method)(path, headers=AUTH).status_code == 404


def test_delete_removes_from_search_and_help_center(client):
    s = slug()
    new_article(client, s, body="## Yeti sightings\nReport yeti sightings to the Boulder store.")
    client.post(f"/api/kb/articles/{s}/publish", headers=AUTH)
    assert client.get(f"/help/{s}").status_code == 200
    assert client.delete(f"/api/kb/articles/{s}", headers=AUTH).status_code == 204
    results = client.get(
        "/api/kb/search", params={"q": "where do I report a yeti sighting"}
    ).json()["results"]
    assert s not in [r["slug"] for r in results]
    assert client.get(f"/help/{s}").status_code == 404
    assert client.get(f"/api/kb/articles/{s}", headers=AUTH).status_code == 404


XSS = (
    "## Hello\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n"
    "<img src=x onerror=alert(1)>\n\n[ok](https://northpeak.example/help)"
)


def test_script_injection_is_neutralised_in_preview_and_help_page(client):
    s = slug()
    created = new_article(client, s, body=XSS, category="<b>cat</b>", title="<script>t</script>")
    for html in (created["html"], client.get(f"/help/{s}").text):
        assert "<script" not in html.replace("&lt;script", "")
        assert 'href="javascript' not in html.lower()
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    client.post(f"/api/kb/articles/{s}/publish", headers=AUTH)
    page = client.get(f"/help/{s}")
    assert "&lt;script&gt;t&lt;/script&gt;" in page.text
    assert "&lt;b&gt;cat&lt;/b&gt;" in page.text
    assert '<a href="https://northpeak.example/help"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_help_index_lists_published_articles(client):
    page = client.get("/help")
    assert page.status_code == 200
    assert '<a href="/help/return-policy">' in page.text
