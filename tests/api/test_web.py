"""The storefront, the widget script and its versioned files, and who may embed the widget."""

from __future__ import annotations

import re

import pytest

from api.origins import OriginPolicy


def test_storefront_embeds_the_widget_under_a_strict_csp(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<script src="/widget.js" data-title="Northpeak"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert 'href="/help"' in page.text


def test_widget_script_is_short_cached_and_points_at_an_immutable_version(client):
    loader = client.get("/widget.js")
    assert loader.status_code == 200
    assert loader.headers["content-type"].startswith("text/javascript")
    assert loader.headers["cache-control"] == "public, max-age=300"
    src = re.search(r'"(/static/[0-9a-f]{12}/widget/supportbot-widget\.js)"', loader.text).group(1)
    code = client.get(src)
    assert code.status_code == 200 and "customElements.define" in code.text
    assert "immutable" in code.headers["cache-control"]
    again = client.get(src, headers={"if-none-match": code.headers["etag"]})
    assert again.status_code == 304
    # An outdated version still works, but is not cached as if it were that version.
    stale = client.get("/static/000000000000/widget/supportbot-widget.js")
    assert stale.status_code == 200 and "immutable" not in stale.headers["cache-control"]
    assert client.get("/static/x/../../api/config.py").status_code == 404


def test_widget_code_never_inserts_html():
    from api.assets import assets

    code = assets.get("widget/supportbot-widget.js").body.decode()
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code
    assert "outerHTML" not in code and "document.write" not in code


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example", True),
        ("https://shop.example/", True),
        ("http://shop.example", False),
        ("https://evil.example", False),
        ("http://localhost:3000", True),
        ("http://localhost", True),
        ("http://localhost.evil.example", False),
        ("null", False),
        (None, False),
    ],
)
def test_origin_policy(origin, allowed):
    policy = OriginPolicy(["https://shop.example", "http://localhost:*"])
    assert policy.allows(origin) is allowed


def test_other_sites_are_refused_with_a_readable_reason(client):
    refused = client.post("/api/conversations", json={}, headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "SUPPORTBOT_ALLOWED_ORIGINS" in refused.json()["detail"]
    assert refused.headers["access-control-allow-origin"] == "https://evil.example"


def test_allowed_sites_get_cors_and_a_preflight(client):
    origin = "http://localhost:5173"
    preflight = client.options(
        "/api/conversations",
        headers={"origin": origin, "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    created = client.post("/api/conversations", json={}, headers={"origin": origin})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == origin


def test_staff_apis_get_no_cors_headers(client):
    response = client.get("/api/handoff/queue", headers={"origin": "http://localhost:5173"})
    assert "access-control-allow-origin" not in response.headers


def test_socketio_endpoint_speaks_engineio(client):
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200 and handshake.text.startswith('0{"sid"')
    refused = client.get(
        "/socket.io/?EIO=4&transport=polling", headers={"origin": "https://evil.example"}
    )
    assert refused.status_code == 403
