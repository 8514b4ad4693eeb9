"""The pages of the team: the live maps, signing in, the record form, review, the log.

Each page that changes the store takes a form with the session's token, and
acts as the session's account, whatever the form says: the library
(:mod:`geo.team`) checks the account's role again. Every value reaches a
page through an autoescaping template, as text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from geo.errors import GeoError
from geo.fields import is_slug
from geo.model import (
    LIFECYCLES,
    OBSERVATION_KINDS,
    OVERVIEW_PAGE,
    SIDES,
    SOURCE_TYPES,
    STATUSES,
    TRAFFIC,
)
from geo.schema import CARRIED_FIELDS
from geo.store import Store, open_store
from geo.team import (
    FORM_FIELDS,
    FormError,
    LoginRefusedError,
    NotAllowedError,
    TeamError,
    accept,
    activity,
    check_password,
    end_sessions,
    has_role,
    proposal,
    proposal_points,
    proposals,
    propose,
    reject,
)
from geo.web.pages import accepts_gzip
from geo.web.session import Sessions, content_policy

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request

__all__ = ["ROUTES", "SERVER_ERROR", "error_page", "login_url"]

T = TypeVar("T")

#: What an unforeseen error says: never a traceback.
STORE_UNAVAILABLE = (
    "The inventory cannot be read or written just now. Try again in a minute; if it goes on, "
    "tell whoever runs this server."
)
SERVER_ERROR = (
    "The server could not answer this request. If you were changing something, look at the "
    "activity log before you send it again."
)
_STALE = (
    "This form has expired, or was not sent from this site's own page, so nothing was "
    "changed. Reload the page and send the form again."
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("geo.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    # The templates ship with the package: not looked at again on every page.
    auto_reload=False,
)
_TEMPLATES = Jinja2Templates(env=_ENV)


def moment(value: object) -> str:
    """Return a moment as a reader says it (``2026-12-03 18:52 UTC``); text that is none, as is.

    The log's times are stored to the microsecond, in UTC, by this tool; a value another
    program wrote there is shown as written (as text, like every value).

    Examples
    --------
    >>> moment("2026-12-03T18:52:01.123456Z"), moment("soon")
    ('2026-12-03 18:52 UTC', 'soon')
    """
    if isinstance(value, datetime):
        found = value
    else:
        try:
            found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if found.tzinfo is not None:
        found = found.astimezone(UTC)
    return found.strftime("%Y-%m-%d %H:%M") + (" UTC" if found.tzinfo is not None else "")


_ENV.filters["moment"] = moment

_CARRIED_LABELS = {
    "source_quote": "The source's words",
    "quote_en": "In English",
    "checked_on": "Checked on",
    "archive_url": "Archived copy",
}

#: How the form labels each field, and a line of help; the carried texts say their own.
LABELS = {
    "crossing_id": ("Crossing", "The crossing the record is about, or the whole border."),
    "date": ("Date", "The date it describes: YYYY, YYYY-MM or YYYY-MM-DD (2025-03 is a month)."),
    "kind": ("Kind", "Only a status record sets a crossing's status."),
    "status": ("Status", "A status record's status after it (or the one a plan announces)."),
    "traffic": ("What still moves", "With the status open or restricted."),
    "applies_to": ("Applies to", "For the whole border: the crossing ids it sets, or all."),
    "until": ("Until", "The last day of a temporary closure or opening."),
    "expected": ("Expected", "For a plan: when it is due."),
    "structure_id": ("Structure", "The bridge, dam or gate the record is about."),
    "lifecycle": ("Lifecycle", "With a structure: its stage after this record."),
    "summary": ("Summary", "What was seen or reported, in one or two sentences."),
    "source_url": ("Source address", "The http(s) address of the source."),
    "source_type": ("Source type", "How the source learned what it reports."),
    "source_name": ("Source name", "Default: the address's host."),
    "source_detail": ("Source detail", "Without an address, say why (a broadcast, print)."),
    "source_is_mirror": ("Mirror", "The address is a copy of the original on another site."),
    "source_published": ("Published", "When the source was published."),
    "side": ("Side", "Which side it concerns."),
    "at": ("Point", "LAT, LON within 25 km of the crossing, or click the map."),
    "replaces": ("Replaces", "The id of the record this corrects or retracts."),
    "notes": ("Notes", "Uncertainty, conflicts, context."),
    **{
        f.name: (
            _CARRIED_LABELS.get(f.name, f.name.replace("_", " ").capitalize()),
            f.description.removeprefix("Source: ").capitalize(),
        )
        for f in CARRIED_FIELDS
    },
}


def login_url(request: Request) -> str:
    """Return the sign-in page's address, coming back to this page after."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='')}"


def _user(request: Request) -> Any:
    return getattr(request.state, "user", None)


def _context(request: Request, **values: Any) -> dict[str, Any]:
    user = _user(request)
    session = getattr(request.state, "session", None)
    return {
        "user": user,
        "csrf": session.token if session is not None else "",
        "can_propose": has_role(user, "contributor"),
        "can_review": has_role(user, "reviewer"),
        "here": request.url.path,
        **values,
    }


def _page(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    return _TEMPLATES.TemplateResponse(
        request, template, _context(request, **values), status_code=status
    )


def error_page(request: Request, status: int, message: str) -> Response:
    """Return one plain page that says what went wrong (a fault's text, never a traceback)."""
    titles = {400: "Not accepted", 401: "Sign in", 403: "Not allowed", 404: "Not found",
              405: "Not allowed", 409: "Not done", 500: "Server error"}  # fmt: skip
    return _page(request, "error.html", status, title=titles.get(status, "Error"), message=message)


def _refusal(request: Request, role: str, doing: str) -> Response | None:
    """Return why the session may not do this (sign in first, or a role too low), or None."""
    user = _user(request)
    if user is None:
        if request.method == "GET":
            return RedirectResponse(login_url(request), status_code=303)
        return error_page(request, 401, f"Sign in to {doing}. Nothing was changed.")
    if not has_role(user, role):
        return error_page(
            request, 403, f"{user.name} is a {user.role}: only a {role} or above may {doing}."
        )
    return None


async def _checked_form(request: Request) -> tuple[FormData | None, Response | None]:
    """Return the form if its token is the session's; else the page that refuses it."""
    # The record form has a few dozen fields of at most 10,000 characters: no more is read.
    form = await request.form(max_files=0, max_fields=64, max_part_size=256 * 1024)
    if not request.state.session.checks(form.get("csrf")):
        return None, error_page(request, 403, _STALE)
    return form, None


async def _in_store(request: Request, work: Callable[[Store], T], *, writable: bool = False) -> T:
    store = request.app.state.settings.store

    def call() -> T:
        with open_store(store, writable=writable) as opened:
            return work(opened)

    return await run_in_threadpool(call)


# -- the maps ----------------------------------------------------------------------------


async def map_page(request: Request) -> Response:
    """Serve the overview or a crossing's page, drawn from the store as it is now."""
    name = request.path_params.get("name", OVERVIEW_PAGE)
    if not is_slug(name):
        return error_page(request, 404, "There is no such page.")
    found = await run_in_threadpool(request.app.state.pages.page, name)
    if found is None:
        return error_page(request, 404, f"There is no crossing {name!r}.")
    bar = _ENV.get_template("bar.html").render(_context(request, crossing=name))
    gzipped = accepts_gzip(",".join(request.headers.getlist("accept-encoding")))
    response = HTMLResponse(found.body(bar, gzipped=gzipped))
    response.headers["Vary"] = "Accept-Encoding"
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Security-Policy"] = content_policy(
        found.scripts, inline_styles=True, evaluates=True
    )
    return response


async def proposals_json(request: Request) -> Response:
    """List the proposals waiting for review, with a point each, for the map's proposals layer."""
    points = await _in_store(request, lambda s: proposal_points(s, proposals(s)))
    return JSONResponse(points)


# -- signing in and out ------------------------------------------------------------------


def _next(target: object) -> str:
    """Return a page of this site to go to after signing in ("/" for anything else)."""
    text = str(target or "/")
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return text


async def login(request: Request) -> Response:
    """Sign in with a name and a password."""
    if request.method == "GET":
        return _page(request, "login.html", title="Sign in", next=_next(request.query_params.get(
            "next")), name="", message="")  # fmt: skip
    form, refused = await _checked_form(request)
    if form is None:
        return refused or error_page(request, 403, _STALE)
    name, password = str(form.get("name", ""))[:200], str(form.get("password", ""))
    client = request.client.host if request.client else "unknown"
    try:
        user = await _in_store(
            request, lambda s: check_password(s, name, password, client=client), writable=True
        )
    except LoginRefusedError as err:
        return _page(request, "login.html", 401, title="Sign in", next=_next(form.get("next")),
                     name=name, message=str(err))  # fmt: skip
    request.state.issued = Sessions.new(user.name)  # a new session and token: none reused
    return RedirectResponse(_next(form.get("next")), status_code=303)


async def logout(request: Request) -> Response:
    """Sign out: the session ends, and its forms' token with it."""
    form, refused = await _checked_form(request)
    if form is None:
        return refused or error_page(request, 403, _STALE)
    user = request.state.user
    if user is not None:  # every session of the account begun until now is over, on any server
        await _in_store(request, lambda s: end_sessions(s, user.name), writable=True)
    request.state.issued = Sessions.new(None)
    return RedirectResponse("/", status_code=303)


# -- the record form ---------------------------------------------------------------------


def _form_values(form: FormData) -> dict[str, str]:
    values = {name: str(form.get(name, "")) for name in FORM_FIELDS}
    values["traffic"] = ",".join(str(v) for v in form.getlist("traffic"))
    values["source_is_mirror"] = "true" if form.get("source_is_mirror") else ""
    return values


def _form_page(
    request: Request, opened: Store, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    crossings = opened.crossings()
    points = {
        c.id: [c.location.lat, c.location.lon] for c in crossings.values() if c.location is not None
    }
    return {
        "title": "Propose a record",
        "crossings": [(c.id, c.name_en) for c in crossings.values()],
        "structures": [(s.id, s.name_en, s.crossing_id) for s in opened.structures().values()],
        "points": json.dumps(points),
        "kinds": OBSERVATION_KINDS,
        "statuses": STATUSES,
        "traffic": TRAFFIC,
        "lifecycles": LIFECYCLES,
        "sides": SIDES,
        "source_types": SOURCE_TYPES,
        "carried": [f.name for f in CARRIED_FIELDS],
        "labels": LABELS,
        "values": values,
        "errors": errors,
        "others": {k: v for k, v in errors.items() if k not in LABELS},
    }


async def record_form(request: Request) -> Response:
    """Show the record form (GET), or take a proposal sent from it (POST)."""
    refused = _refusal(request, "contributor", "propose records")
    if refused is not None:
        return refused
    if request.method == "GET":
        values = dict.fromkeys(FORM_FIELDS, "")
        values["crossing_id"] = request.query_params.get("crossing", "")[:100]
        values["replaces"] = request.query_params.get("replaces", "")[:100]
        shown = await _in_store(request, lambda s: _form_page(request, s, values, {}))
        return _page(request, "record.html", **shown)
    form, refused = await _checked_form(request)
    if form is None:
        return refused or error_page(request, 403, _STALE)
    values = _form_values(form)
    user = request.state.user.name
    try:
        made = await _in_store(request, lambda s: propose(s, values, user=user), writable=True)
    except FormError as err:
        errors = err.errors
        shown = await _in_store(request, lambda s: _form_page(request, s, values, errors))
        return _page(request, "record.html", 422, **shown)
    return RedirectResponse(f"/proposals/{made.id}", status_code=303)


# -- review ------------------------------------------------------------------------------


async def review_queue(request: Request) -> Response:
    """Show the proposals waiting for review, each with its fields, to accept or reject."""
    refused = _refusal(request, "reviewer", "review proposals")
    if refused is not None:
        return refused
    waiting = await _in_store(request, proposals)
    return _page(request, "review.html", title="Review", waiting=waiting, labels=LABELS)


async def review_action(request: Request) -> Response:
    """Accept a proposal, or reject it with a reason, as the session's reviewer."""
    refused = _refusal(request, "reviewer", "review proposals")
    if refused is not None:
        return refused
    form, refused = await _checked_form(request)
    if form is None:
        return refused or error_page(request, 403, _STALE)
    proposal_id, action = request.path_params["proposal_id"], request.path_params["action"]
    if action not in ("accept", "reject"):
        return error_page(request, 404, "There is no such page.")
    reviewer, reason = request.state.user.name, str(form.get("reason", ""))

    def review(opened: Store) -> object:
        if action == "accept":
            return accept(opened, proposal_id, reviewer=reviewer)
        return reject(opened, proposal_id, reason, reviewer=reviewer)

    try:
        await _in_store(request, review, writable=True)
    except GeoError as err:  # not allowed, reviewed already, or no longer acceptable
        status = 403 if isinstance(err, NotAllowedError) else 409
        said = "Not accepted, nothing was changed: " if isinstance(err, FormError) else ""
        return error_page(request, status, said + str(err))
    return RedirectResponse(f"/proposals/{quote(proposal_id)}", status_code=303)


async def proposal_page(request: Request) -> Response:
    """Show one proposal: its fields, who proposed it, and its review."""
    proposal_id = request.path_params["proposal_id"]
    try:
        found = await _in_store(request, lambda s: proposal(s, proposal_id))
    except TeamError:
        return error_page(request, 404, "There is no such proposal.")
    return _page(request, "proposal.html", title=f"Proposal {found.id}", item=found, labels=LABELS)


# -- the log -----------------------------------------------------------------------------


def _record_view(opened: Store, record_id: str) -> dict[str, Any]:
    return {
        "record": opened.observation(record_id),
        "entries": activity(opened, record_id=record_id),
        "proposed": [p for p in proposals(opened, state=None) if p.record_id == record_id],
    }


async def activity_page(request: Request) -> Response:
    """Show the log of who did what: all of it, a crossing's, or a record's."""
    crossing_id = request.path_params.get("crossing_id")
    record_id = request.path_params.get("record_id")
    if crossing_id is not None and not (is_slug(crossing_id) or crossing_id == "border"):
        # An id from the address becomes a link on the page: only a crossing's id can.
        return error_page(request, 404, "No such crossing.")
    if record_id is not None:
        shown = await _in_store(request, lambda s: _record_view(s, record_id))
        title = f"Record {record_id}"
    else:
        shown = await _in_store(
            request,
            lambda s: {
                "entries": activity(s, crossing_id=crossing_id),
                "proposed": proposals(s, crossing_id=crossing_id) if crossing_id else [],
                "record": None,
            },
        )
        title = f"Activity of {crossing_id}" if crossing_id else "Activity"
    if not has_role(request.state.user, "admin"):  # accounts and their roles: admins only
        shown["entries"] = [e for e in shown["entries"] if not e.action.startswith("account ")]
    return _page(request, "activity.html", title=title, crossing_id=crossing_id,
                 record_id=record_id, **shown)  # fmt: skip


ROUTES = [
    Route("/", map_page, name="overview"),
    Route("/index.html", map_page),
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/records/new", record_form, methods=["GET", "POST"], name="record_form"),
    Route("/review", review_queue, name="review"),
    Route("/review/{proposal_id}/{action:str}", review_action, methods=["POST"]),
    Route("/proposals.json", proposals_json, name="proposals_json"),
    Route("/proposals/{proposal_id}", proposal_page, name="proposal"),
    Route("/activity", activity_page, name="activity"),
    Route("/activity/crossing/{crossing_id}", activity_page),
    Route("/activity/record/{record_id}", activity_page),
    Route("/{name}.html", map_page, name="crossing"),
]
