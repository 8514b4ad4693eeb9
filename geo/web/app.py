"""The application of ``crossings serve``: its settings, routes, and what every response gets.

Every request reads who is signed in from the session cookie and the account
from the store; every response carries a Content-Security-Policy,
``X-Content-Type-Options: nosniff``, ``frame-ancestors 'none'`` and a
Referrer-Policy; an error is one plain page, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from geo.assets import VENDOR_DIR
from geo.errors import GeoError, StoreError
from geo.feeds import feed_base_url
from geo.store import is_database, open_store
from geo.store.edits import ensure_edit_marks
from geo.team import ensure_team_tables, find_user, sessions_ended_at
from geo.web import api, views
from geo.web.pages import MapPages
from geo.web.session import (
    COOKIE,
    SESSION_HOURS,
    Session,
    Sessions,
    content_policy,
    load_secret,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from geo.timelines import StatusKeeper

__all__ = ["Settings", "create_app", "run"]

_log = logging.getLogger(__name__)

#: Paths anyone may open, even where reading needs an account: signing in and its files.
_OPEN_PATHS = ("/login", "/static/", "/vendor/")
#: Paths that answer no form: the read API, the feeds, the files.
_FORMLESS_PATHS = ("/api/", "/feed.", "/crossings/", "/static/", "/vendor/")
#: The session of a request without one to a path with no form: its token checks nothing.
_NO_FORMS = Session(None, "")


@dataclass(frozen=True)
class Settings:
    """What a server is told: its store, its session key, and whether readers sign in."""

    store: str
    secret: bytes
    readers_need_login: bool = False
    #: The address readers reach the server at, for the feeds' links (None: each request's).
    base_url: str | None = None
    #: Whether pages drawn again after a write are drawn by a process of their own
    #: (geo.web.pages.Painter): ``crossings serve`` does; an application made in a test
    #: or a notebook draws them itself unless told.
    draw_apart: bool = False

    @classmethod
    def load(
        cls,
        store: str,
        *,
        secret_file: Path | None = None,
        readers_need_login: bool = False,
        base_url: str | None = None,
        draw_apart: bool = False,
    ) -> Settings:
        """Return the settings of a server of ``store``, its session key found or made.

        The store is opened once, writable, to create the team's tables and
        its edit marks (geo.store.edits) where it lacks them.

        Raises
        ------
        GeoError
            If the store cannot be opened or written, or the key cannot be had.
        """
        if base_url is not None:
            base_url = feed_base_url(base_url)
        secret = load_secret(store, secret_file=secret_file, is_database=is_database(store))
        with open_store(store, writable=True) as opened:
            ensure_team_tables(opened)
            ensure_edit_marks(opened)  # what a server keeps is known current by them
        return cls(
            store=str(store),
            secret=secret,
            readers_need_login=readers_need_login,
            base_url=base_url,
            draw_apart=draw_apart,
        )


def _security_headers(headers: MutableHeaders) -> None:
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = content_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if headers.get("content-type", "").startswith(("text/html", "application/json")):
        headers["Cache-Control"] = "no-store"


class _Team:
    """Read the session and the account of each request; give every response its headers.

    A plain ASGI middleware: the headers are added as the response starts, and
    the body passes through untouched (no task and no stream a request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                cookie = _cookie_due(request)
                if cookie is not None:
                    headers.append("set-cookie", cookie)
                _security_headers(headers)
            await send(message)

        try:
            early = await _begin(request)
            await (early or self.app)(scope, receive, send_with_headers)
        except Exception:  # anything unforeseen: one plain page, the details in the server's log
            _log.exception("%s %s failed", request.method, request.url.path)
            if started:  # the answer has begun: it cannot be replaced
                raise
            page = views.error_page(request, 500, views.SERVER_ERROR)
            await page(scope, receive, send_with_headers)


async def _begin(request: Request) -> Response | None:
    """Read who is signed in into ``request.state``; return a sign-in redirect where one is due."""
    state = request.app.state
    session = state.sessions.read(request.cookies.get(COOKIE))
    user = None
    if session is not None and session.name is not None:
        user, ended = await run_in_threadpool(_account, state.settings.store, session.name)
        # Disabled since, or signed out since (on any server): out at once.
        if user is None or user.disabled or (ended is not None and session.begun <= ended):
            session, user = None, None
    request.state.user = user
    path = request.url.path
    # The read API, the feeds and the files have no forms: a reader without a session is
    # given none there (a new one costs a random token and a signature a request).
    formless = path.startswith(_FORMLESS_PATHS)
    request.state.session = session or (_NO_FORMS if formless else Sessions.new(None))
    request.state.renew = session is None and not formless
    if state.settings.readers_need_login and user is None and not path.startswith(_OPEN_PATHS):
        return RedirectResponse(views.login_url(request), status_code=303)
    return None


def _cookie_due(request: Request) -> str | None:
    """Return the Set-Cookie of a session begun, ended or replaced by this request, if any."""
    issued = getattr(request.state, "issued", None)
    if issued is None and not getattr(request.state, "renew", False):
        return None
    holder = Response()
    _set_cookie(request, holder, issued or request.state.session)
    return holder.headers["set-cookie"]


def _account(store: str, name: str) -> tuple[Any, str | None]:
    with open_store(store) as opened:
        return find_user(opened, name), sessions_ended_at(opened, name)


def _set_cookie(request: Request, response: Response, session: Any) -> None:
    response.set_cookie(
        COOKIE,
        request.app.state.sessions.cookie(session),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else views.SERVER_ERROR
    return views.error_page(request, status, str(detail))


async def _geo_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, StoreError):  # the store's path, host or state is the server's business
        _log.error("%s %s: %s", request.method, request.url.path, exc)
        return views.error_page(request, 503, views.STORE_UNAVAILABLE)
    return views.error_page(request, 409, str(exc))


def _routes(store: str, base_url: str | None, keeper: StatusKeeper) -> list[BaseRoute]:
    return [
        # The read API and the feeds (/api/...): their links from base_url, else each request's.
        *api.routes(lambda: open_store(store), base_url=base_url, keeper=keeper),
        *views.ROUTES,
        Mount("/static", StaticFiles(packages=[("geo", "static")]), name="static"),
        Mount("/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor"),
    ]


def create_app(settings: Settings) -> Starlette:
    """Return the application serving ``settings.store``."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pages.close()

    # Its timelines answer the status questions too.
    pages = MapPages(settings.store, apart=settings.draw_apart)
    app = Starlette(
        routes=_routes(settings.store, settings.base_url, pages.keeper),
        middleware=[Middleware(_Team)],
        exception_handlers={HTTPException: _http_error, GeoError: _geo_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = settings.store
    app.state.sessions = Sessions(settings.secret)
    app.state.pages = pages
    return app


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the application with uvicorn until interrupted.

    Forwarded headers (the client's address, https) are trusted from a proxy
    on this machine only, as uvicorn does by default.
    """
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )
