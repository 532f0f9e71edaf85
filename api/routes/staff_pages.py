"""Staff pages: agent console (/agent), knowledge-base editor (/editor), team admin (/admin).

Each page is a server-rendered shell (Jinja2, autoescaped) with one small script that talks
to the JSON API with the session cookie and the page's CSRF token. Signed out, each page is a
sign-in form; signed in with the wrong role, it says which role it needs.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import StateDep
from api.pages import render
from handoff.agents import AgentService
from handoff.deps import SESSION_COOKIE, check_csrf, csrf_token, set_session_cookie
from handoff.models import Agent
from handoff.uow import unit_of_work

router = APIRouter(include_in_schema=False)

PAGES = {
    "/agent": ("Agent console", ("agent", "admin"), "staff/console.html"),
    "/editor": ("Knowledge base", ("editor", "admin"), "staff/editor.html"),
    "/admin": ("Team", ("admin",), "staff/admin.html"),
    "/analytics": ("Analytics", ("agent", "admin"), "staff/analytics.html"),
}
NAV = [
    ("/agent", "Console"),
    ("/editor", "Knowledge base"),
    ("/analytics", "Analytics"),
    ("/admin", "Team"),
]


def _signed_in(state, token: str | None) -> Agent | None:  # noqa: ANN001
    if not token:
        return None
    with unit_of_work(state.sessions, state.bus) as uow:
        agent = AgentService(uow.session).for_token(token)
        if agent is not None:
            uow.session.expunge(agent)
        return agent


def _nav(agent: Agent) -> list[tuple[str, str]]:
    return [(path, label) for path, label in NAV if agent.role in PAGES[path][1]]


def _page(request: Request, state, path: str, token: str | None) -> HTMLResponse:  # noqa: ANN001
    title, roles, template = PAGES[path]
    agent = _signed_in(state, token)
    if agent is None:
        here = path + (f"?{request.url.query}" if request.url.query else "")
        return render(request, "staff/login.html", {"title": title, "next": here, "error": None})
    if agent.role not in roles:
        return render(
            request,
            "staff/forbidden.html",
            {
                "title": title,
                "me": agent,
                "nav": _nav(agent),
                "roles": roles,
                "csrf": csrf_token(state.settings.secret_key, token),
            },  # fmt: skip
            status_code=403,
        )
    return render(
        request,
        template,
        {
            "title": title,
            "me": agent,
            "nav": _nav(agent),
            "path": path,
            "csrf": csrf_token(state.settings.secret_key, token),
        },
    )


Session = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


@router.get("/agent", response_class=HTMLResponse)
def agent_console(request: Request, state: StateDep, session: Session = None) -> HTMLResponse:
    return _page(request, state, "/agent", session)


@router.get("/editor", response_class=HTMLResponse)
def editor(request: Request, state: StateDep, session: Session = None) -> HTMLResponse:
    return _page(request, state, "/editor", session)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, state: StateDep, session: Session = None) -> HTMLResponse:
    return _page(request, state, "/admin", session)


@router.get("/analytics", response_class=HTMLResponse)
def analytics(request: Request, state: StateDep, session: Session = None) -> HTMLResponse:
    return _page(request, state, "/analytics", session)


@router.post("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    state: StateDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=300)] = "/agent",
) -> Response:
    """The sign-in form on every staff page (same-site posts only)."""
    parts = urlsplit(next)
    # Only back to one of our pages (never an open redirect to another site).
    target = next if not (parts.scheme or parts.netloc) and parts.path in PAGES else "/agent"
    title = PAGES[urlsplit(target).path][0]
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        return render(
            request,
            "staff/login.html",
            {"title": title, "next": target, "error": "Sign in from this site's own page."},
            status_code=403,
        )
    client = request.client.host if request.client else ""
    key = f"login-failed:{client}"  # failed attempts are limited, successful ones are not
    over, _ = state.limiter.exceeded(key, state.handoff.login_attempts_per_minute)
    if over:
        return render(
            request,
            "staff/login.html",
            {"title": title, "next": target, "error": "Too many attempts; wait a minute."},
            status_code=429,
        )
    with unit_of_work(state.sessions, state.bus) as uow:
        agents = AgentService(uow.session)
        agent = agents.authenticate(email=email, password=password)
        token = (
            agents.issue_token(agent, ttl_hours=state.handoff.agent_token_ttl_hours)
            if agent
            else None
        )
        if token:
            agents.for_token(token)  # marks the agent online
    if token is None:
        state.limiter.allow(key, state.handoff.login_attempts_per_minute)
        return render(
            request,
            "staff/login.html",
            {"title": title, "next": target, "error": "Wrong email or password."},
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, state)
    return response


@router.post("/logout")
def logout_form(
    request: Request,
    state: StateDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    session: Session = None,
) -> Response:
    """Ends this browser's session (the form carries the page's CSRF token)."""
    response = RedirectResponse("/agent", status_code=303)
    if session:
        check_csrf(request, session, form_token=csrf)
        with unit_of_work(state.sessions, state.bus) as uow:
            agents = AgentService(uow.session)
            agent = agents.for_token(session)
            agents.revoke(session)
            if agent is not None:
                agents.set_offline(agent.id)
    response.delete_cookie(SESSION_COOKIE)
    return response
