"""The demo storefront, the embeddable widget script and versioned static files."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.assets import LONG_CACHE, SHORT_CACHE, Asset, assets
from api.deps import StateDep
from api.pages import SECURITY_HEADERS, render
from handoff.identity import sign

router = APIRouter(include_in_schema=False)

PRODUCTS = [
    {"name": "Ridgeline 2 Tent", "price": 329, "swatch": "tent",
     "blurb": "Two-person, three-season, 1.9 kg packed."},
    {"name": "Talus 48 Pack", "price": 189, "swatch": "pack",
     "blurb": "Adjustable torso, rain cover included."},
    {"name": "Summit GTX Boots", "price": 215, "swatch": "boots",
     "blurb": "Waterproof leather, Vibram soles."},
    {"name": "Cirrus Rain Jacket", "price": 149, "swatch": "jacket",
     "blurb": "2.5-layer shell that packs into its pocket."},
    {"name": "Alpenglow 20 Sleeping Bag", "price": 259, "swatch": "bag",
     "blurb": "650-fill down, comfort rated to 20 \u00b0F."},
    {"name": "Basecamp Stove", "price": 89, "swatch": "stove",
     "blurb": "Boils a litre in 3.5 minutes."},
]  # fmt: skip

DEMO_SHOPPER = {"id": "demo-shopper-1", "name": "Alex Rivera", "email": "alex@example.com"}


def _asset_response(asset: Asset, cache: str, request: Request) -> Response:
    etag = f'"{asset.digest}"'
    headers = {"Cache-Control": cache, "ETag": etag, **SECURITY_HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/", response_class=HTMLResponse)
def storefront(request: Request, state: StateDep) -> HTMLResponse:
    """The demo Northpeak shop with the chat bubble embedded."""
    secret = state.settings.identity_secret
    shopper = None
    if request.query_params.get("as") == "demo" and secret:
        shopper = {**DEMO_SHOPPER, "hash": sign(DEMO_SHOPPER["id"], secret)}
    return render(
        request,
        "storefront.html",
        {"products": PRODUCTS, "shopper": shopper, "identity_demo": bool(secret)},
    )


@router.get("/widget.js")
def widget_script(request: Request) -> Response:
    """The one script tag a website adds; loads the versioned widget code."""
    return _asset_response(assets.loader, SHORT_CACHE, request)


@router.get("/static/{digest}/{name:path}")
def static_file(digest: str, name: str, request: Request) -> Response:
    """Static files by content hash (cached for a year); an old hash gets today's file."""
    asset = assets.get(name)
    if asset is None or name == "widget-loader.js":
        return Response("not found", status_code=404, media_type="text/plain")
    return _asset_response(asset, LONG_CACHE if digest == asset.digest else SHORT_CACHE, request)
