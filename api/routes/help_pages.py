"""Public help-center pages: the articles customers are linked to from answers."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from knowledge_base.render import render_markdown
from knowledge_base.store import ArticleService

router = APIRouter(tags=["help center"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Northpeak Help Center</title>
<style>
body {{ font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
  padding: 0 1rem; color: #1d2a33; }}
a {{ color: #0b6e4f; }} h1 {{ font-size: 1.7rem; }} .meta {{ color: #5b6b75; font-size: .9rem; }}
</style></head>
<body><p><a href="/help">Help Center</a></p>{content}</body></html>"""


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=escape(title), content=content),
        status_code=status,
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@router.get("/help", response_class=HTMLResponse)
def help_index(session: SessionDep) -> HTMLResponse:
    """All published articles by category."""
    groups: dict[str, list] = defaultdict(list)
    for article in ArticleService(session).published():
        groups[article.category or "Other"].append(article)
    parts = ["<h1>Northpeak Help Center</h1>"]
    for category in sorted(groups):
        links = "".join(
            f'<li><a href="/help/{escape(a.slug)}">{escape(a.title)}</a></li>'
            for a in sorted(groups[category], key=lambda a: a.title)
        )
        parts.append(f"<h2>{escape(category)}</h2><ul>{links}</ul>")
    return _page("Help Center", "".join(parts))


@router.get(
    "/help/{slug}",
    response_class=HTMLResponse,
    responses={
        404: {
            "description": "No published article with this slug (an HTML page)",
            "content": {"text/html": {}},
        }
    },
)
def help_article(slug: str, session: SessionDep) -> HTMLResponse:
    """One published article, rendered from sanitised Markdown."""
    article = ArticleService(session).published_one(slug=slug)
    if article is None:
        return _page(
            "Not found",
            "<h1>Article not found</h1><p>It may have moved. "
            '<a href="/help">Browse the help center</a>.</p>',
            status=404,
        )
    content = (
        f"<h1>{escape(article.title)}</h1>"
        f'<p class="meta">{escape(article.category)} &middot; updated {escape(article.updated)}</p>'
        f"{render_markdown(article.body)}"
    )
    return _page(article.title, content)
