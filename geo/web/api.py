"""The read API: the questions of the commands as JSON, and the change feeds, over HTTP.

Each answer is the one the command gives with ``--format json``, built by the
same functions (:mod:`geo.answers`), so a script can move from one to the other.
Every parameter is checked by the rules of one value the commands use
(:mod:`geo.fields`): a bad one is a 400 answer whose JSON names the parameter, the
value, what is allowed and the fix; an unknown crossing is a 404; a store that
cannot be read is a 503. Nothing a request sends reaches SQL but as a bound
value, and no answer holds a traceback. docs/api.md lists the addresses.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from geo.answers import (
    around_row,
    change_record_row,
    change_window,
    crossing_document,
    history_rows,
    list_row,
    near_crossing_row,
    near_record_row,
    status_row,
    transition_row,
    within_rows,
)
from geo.browse import show_crossing, status_matrix
from geo.errors import GeoError, RecordValidationError, StoreError, shown
from geo.feeds import (
    ATOM_TYPE,
    FEED_LIMIT,
    JSON_FEED_TYPE,
    FeedSite,
    atom_bytes,
    feed_base_url,
    json_bytes,
    read_feed,
)
from geo.fields import date_range, parse_choice, parse_flag, parse_fuzzy_date, parse_lat_lon
from geo.inventory import today_or
from geo.model import OBSERVATION_KINDS, SOURCE_TYPES
from geo.questions import (
    AROUND_KM,
    NEAR_KM,
    around,
    changes,
    near,
    observations_near,
    transitions,
    within_areas,
)

if TYPE_CHECKING:
    from starlette.requests import Request

    from geo.browse import CrossingHistory
    from geo.model import Crossing
    from geo.status import StatusAnswer
    from geo.store import Store
    from geo.timelines import StatusKeeper

__all__ = ["MAX_VALUE_CHARACTERS", "StoreOpener", "routes"]

LOG = logging.getLogger(__name__)

#: What the routes are given: a function that opens the store for one request.
StoreOpener = Callable[[], AbstractContextManager["Store"]]

#: The longest value a parameter may have, in characters.
MAX_VALUE_CHARACTERS = 200
#: The largest radius, in kilometres: half the equator, the farthest two points can be.
MAX_KM = 20_038.0
#: The text of a date parameter's rule.
DATE_FORMS = "YYYY, YYYY-MM or YYYY-MM-DD (a year or a month means its last day)"


class Query:
    """The query parameters of a request: only known names, each given at most once."""

    def __init__(self, request: Request, allowed: Sequence[str]) -> None:
        self.values: dict[str, str] = {}
        for name, value in request.query_params.multi_items():
            if name not in allowed:
                raise RecordValidationError(
                    name if len(name) <= 60 else name[:60] + "…",
                    value,
                    "is not a parameter of this address",
                    ", ".join(allowed) if allowed else "no parameters",
                    "leave it out, or correct its name (docs/api.md)",
                )
            if name in self.values:
                raise RecordValidationError(
                    name, value, "is given twice", "one value", f"give {name} once"
                )
            if len(value) > MAX_VALUE_CHARACTERS:
                raise RecordValidationError(
                    name,
                    value,
                    f"is {len(value):,} characters long",
                    f"at most {MAX_VALUE_CHARACTERS} characters",
                    "shorten it",
                )
            self.values[name] = value

    def get(self, name: str) -> str | None:
        """Return a parameter's value, or None where it is not given (or empty)."""
        return self.values.get(name) or None


def parse_day(value: str | None, name: str) -> date | None:
    """Return the day a date parameter names (a year or a month: its last day).

    Raises
    ------
    RecordValidationError
        Naming the parameter, if the value is not a date.
    """
    if value is None:
        return None
    return parse_fuzzy_date(value, field=name, today=date.max).end


def parse_km(value: str | None, name: str, default: float) -> float:
    """Return a radius in kilometres: a finite number from 0 to half the equator.

    Raises
    ------
    RecordValidationError
        Naming the parameter, if the value is not such a number.
    """
    if value is None:
        return default
    try:
        km = float(value) if "_" not in value else math.nan
    except ValueError:
        km = math.nan
    if not 0 <= km <= MAX_KM:  # also refuses NaN and infinities
        raise RecordValidationError(
            name,
            value,
            "is not a distance",
            f"a number of kilometres from 0 to {MAX_KM:,.0f}",
            f"give e.g. {name}=3",
        )
    return km


def parse_bbox(value: str | None, name: str = "bbox") -> dict[str, Any]:
    """Return a box ``west,south,east,north`` (degrees) as a GeoJSON polygon.

    Raises
    ------
    RecordValidationError
        Naming the parameter, if it is missing or not four numbers in range and order.
    """
    allowed = "west,south,east,north in decimal degrees (lon, lat), west < east, south < north"
    parts = (value or "").split(",")
    try:
        west, south, east, north = (float(p) if "_" not in p else math.nan for p in parts)
    except ValueError:  # not four parts, or one is not a number
        west = south = east = north = math.nan
    in_range = -180 <= west < east <= 180 and -90 <= south < north <= 90  # NaN: False
    if not in_range:
        raise RecordValidationError(
            name, value, "is not a box", allowed, f"give e.g. {name}=124.30,40.00,124.45,40.15"
        )
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _plain(value: object) -> object:
    """Return a value as JSON can carry it: text cut where it is long, odd floats as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE_CHARACTERS else text[:MAX_VALUE_CHARACTERS] + "…"


def error_response(err: GeoError, names: Mapping[str, str]) -> JSONResponse:
    """Return the JSON answer of an error: 400 for a bad value, 404 for an unknown id.

    ``names`` turns the names the library gives a value (``--km``, ``ID``) into
    the request's parameter names. A store that cannot be read is a 503 whose
    message does not name the store (the server's log does).
    """
    if not isinstance(err, RecordValidationError):
        LOG.error("the store could not be read: %s", err)
        status = 503 if isinstance(err, StoreError) else 500
        message = "the store could not be read; try again later (the server's log says why)"
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    status = 404 if isinstance(err, LookupError) else 400
    parameter = names.get(err.field, err.field)
    body = {
        "status": status,
        "parameter": parameter,
        "value": _plain(err.value),
        "problem": err.problem,
        "allowed": err.allowed,
        "fix": err.fix,
        "message": f"{parameter}: {shown(err.value)} {err.problem}. Allowed: {err.allowed}",
    }
    return JSONResponse({"error": body}, status_code=status)


#: How much of an answer is sent at once: each piece costs a hop to a worker thread and back.
CHUNK_BYTES = 64 * 1024


def rows_response(rows: Iterable[Mapping[str, object]]) -> Response:
    """Return rows as a JSON array, written as they come, in pieces of about CHUNK_BYTES.

    An answer of one piece is sent whole: streaming costs a hop to a worker
    thread and back for each piece.
    """

    def chunks() -> Iterator[bytes]:
        parts, size = [b"["], 1
        for number, row in enumerate(rows):
            part = (("," if number else "") + "\n" + json.dumps(row, ensure_ascii=False)).encode()
            parts.append(part)
            size += len(part)
            if size >= CHUNK_BYTES:
                yield b"".join(parts)
                parts, size = [], 0
        parts.append(b"\n]\n")
        yield b"".join(parts)

    pieces = chunks()
    first = next(pieces)
    second = next(pieces, None)
    if second is None:
        return Response(first, media_type="application/json")
    rest = itertools.chain([first, second], pieces)
    return StreamingResponse(rest, media_type="application/json")


def _feed_path(crossing_id: str | None, feed_format: str) -> str:
    """Return the address of a feed this API serves, from the site's root."""
    if crossing_id is None:
        return f"feed.{feed_format}"
    return f"crossings/{crossing_id}/feed.{feed_format}"


def _crossing_id(request: Request) -> str:
    """Return the crossing id of the address (checked for length only: the store looks it up)."""
    value: str = request.path_params["crossing_id"]
    if len(value) > MAX_VALUE_CHARACTERS:
        raise RecordValidationError(
            "id", value, "is too long to be a crossing's id", "a crossing's id", "check the address"
        )
    return value


def _history(history: CrossingHistory) -> list[dict[str, object]]:
    return history_rows(history.records, history.superseded, history.crossing.id)


#: The names the library gives values, as a request names them.
NAMES = {"ID": "id", "crossing_id": "id", "--km": "km", "--since": "since", "--until": "until"}
NAMES |= {"--from": "since", "--to": "until", "point.lat": "lat", "point.lon": "lon"}
NAMES |= {"FILE": "bbox"}
#: The names of a date window's parameters.
NAMES_SU = ("since", "until")


class ReadApi:
    """The endpoints, each a question of the store opened for the request."""

    def __init__(
        self,
        store_opener: StoreOpener,
        *,
        base_url: str | None = None,
        page_path: Callable[[str | None], str] | None = None,
        feed_limit: int = FEED_LIMIT,
        keeper: StatusKeeper | None = None,
    ) -> None:
        self.open = store_opener
        self.keeper = keeper
        self.base_url = feed_base_url(base_url, field="base_url") if base_url else None
        self.page_path = page_path
        self.feed_limit = feed_limit

    def answer(
        self, ask: Callable[[Request], Response], names: Mapping[str, str] = NAMES
    ) -> Callable[[Request], Response]:
        """Return an endpoint that answers with ``ask``, or with the JSON of its error."""

        def endpoint(request: Request) -> Response:
            try:
                return ask(request)
            except GeoError as err:
                return error_response(err, names)

        endpoint.__name__ = getattr(ask, "__name__", "endpoint")
        return endpoint

    def crossings(self, request: Request) -> Response:
        """``crossings list --format json``: every crossing, its status on ``as_of``."""
        day = parse_day(Query(request, ["as_of"]).get("as_of"), "as_of")
        listed = self._statuses(today_or(day))
        return rows_response(list_row(crossing, answer) for crossing, answer in listed)

    def crossing(self, request: Request) -> Response:
        """``crossings show ID --format json``: a crossing, its status, structures, history."""
        day = parse_day(Query(request, ["as_of"]).get("as_of"), "as_of")
        with self.open() as opened:
            history = show_crossing(opened, _crossing_id(request), as_of=day)
        return JSONResponse(crossing_document(history, _history(history)))

    def history(self, request: Request) -> Response:
        """Answer the ``history`` of ``crossings show ID --format json``: records and roles."""
        day = parse_day(Query(request, ["as_of"]).get("as_of"), "as_of")
        with self.open() as opened:
            history = show_crossing(opened, _crossing_id(request), as_of=day)
        return rows_response(_history(history))

    def status(self, request: Request) -> Response:
        """``crossings status --format json``: every crossing's status on one day."""
        day = today_or(parse_day(Query(request, ["as_of"]).get("as_of"), "as_of"))
        found = self._statuses(day)
        return rows_response(status_row(crossing, answer) for crossing, answer in found)

    def _statuses(self, day: date) -> list[tuple[Crossing, StatusAnswer]]:
        """Every crossing's status on ``day``: from the kept timelines where there are some."""
        kept = self.keeper.current() if self.keeper is not None else None
        if kept is not None:
            return kept.answers(day)
        with self.open() as opened:
            return [(crossing, answer) for crossing, (answer,) in status_matrix(opened, [day])]

    def changes(self, request: Request) -> Response:
        """``crossings changes --format json`` (with ``records=true``: ``--records``)."""
        query = Query(request, ["since", "until", "records"])
        records = parse_flag("records", query.get("records") or "")
        date_range(query.get("since"), query.get("until"), names=NAMES_SU)
        since, until = change_window(query.get("since"), query.get("until"), names=NAMES_SU)
        with self.open() as opened:
            if records:
                return rows_response([change_record_row(c) for c in changes(opened, since, until)])
            found = transitions(opened, since, until)
        return rows_response(transition_row(t) for t in found)

    def around(self, request: Request) -> Response:
        """``crossings around ID --format json``: records within ``km`` of a crossing."""
        query = Query(request, ["crossing", "km", "since", "until", "kind", "source_type"])
        crossing = query.get("crossing")
        if crossing is None:
            raise RecordValidationError(
                "crossing", None, "is missing", "a crossing's id or name", "give crossing=ID"
            )
        since, until = query.get("since"), query.get("until")
        date_range(since, until, names=NAMES_SU)
        km = parse_km(query.get("km"), "km", AROUND_KM)
        kind, source_type = query.get("kind"), query.get("source_type")
        if kind is not None:
            kind = parse_choice("kind", kind, OBSERVATION_KINDS)
        if source_type is not None:
            source_type = parse_choice("source_type", source_type, SOURCE_TYPES)
        with self.open() as opened:
            found = around(
                opened,
                crossing,
                km=km,
                since=since,
                until=until,
                kind=kind,
                source_type=source_type,
            )
        return rows_response(around_row(n) for n in found)

    def within(self, request: Request) -> Response:
        """``crossings within FILE --format json``, for a box: crossings and records inside it."""
        area = parse_bbox(Query(request, ["bbox"]).get("bbox"))
        with self.open() as opened:
            found = within_areas(opened, area, "bbox")
        return rows_response(within_rows(*found))

    def near(self, request: Request) -> Response:
        """``crossings near LAT,LON --format json`` (``observations=true``: the records)."""
        query = Query(request, ["lat", "lon", "km", "observations"])
        point = parse_lat_lon(query.get("lat"), query.get("lon"), field="point")
        km = parse_km(query.get("km"), "km", NEAR_KM)
        records = parse_flag("observations", query.get("observations") or "")
        with self.open() as opened:
            if records:
                found = observations_near(opened, point.lat, point.lon, km=km)
                return rows_response([near_record_row(n) for n in found])
            crossings = near(opened, point.lat, point.lon, km=km)
        return rows_response(near_crossing_row(n) for n in crossings)

    def atom(self, request: Request) -> Response:
        """Answer the Atom feed of the border, or of the crossing in the address."""
        return self._feed(request, "atom")

    def json_feed(self, request: Request) -> Response:
        """Answer the JSON Feed of the border, or of the crossing in the address."""
        return self._feed(request, "json")

    def _feed(self, request: Request, feed_format: str) -> Response:
        Query(request, [])
        crossing_id = _crossing_id(request) if "crossing_id" in request.path_params else None
        site = FeedSite(self.base_url or feed_base_url(str(request.base_url)), feed_path=_feed_path)
        if self.page_path is not None:
            site = site._replace(page_path=self.page_path)
        with self.open() as opened:
            feed = read_feed(opened, crossing_id, limit=self.feed_limit)
        if feed_format == "atom":
            return Response(atom_bytes(feed, site), media_type=ATOM_TYPE)
        return Response(json_bytes(feed, site), media_type=JSON_FEED_TYPE)


def routes(
    store_opener: StoreOpener,
    *,
    base_url: str | None = None,
    page_path: Callable[[str | None], str] | None = None,
    feed_limit: int = FEED_LIMIT,
    keeper: StatusKeeper | None = None,
) -> list[Route]:
    """Return the read API's routes, to mount in the application.

    Parameters
    ----------
    store_opener : callable
        Opens the store for one request: ``with store_opener() as store: ...``.
    base_url : str or None, default None
        The address the site is published at, for the feeds' links (default:
        the address each request was made to).
    page_path : callable or None, default None
        The path of a crossing's page from the site's root (None: the overview);
        default: the files ``crossings map`` writes (``index.html``, ``<id>.html``).
    feed_limit : int, default FEED_LIMIT
        How many entries a feed holds at most.
    keeper : StatusKeeper or None, default None
        Every crossing's timeline, kept by a process that answers many status
        questions (None: each answer reads the store through its indexes).

    Raises
    ------
    RecordValidationError
        If ``base_url`` is not a web address.
    """
    api = ReadApi(
        store_opener, base_url=base_url, page_path=page_path, feed_limit=feed_limit, keeper=keeper
    )
    crossing = {**NAMES, "ID": "crossing", "crossing_id": "crossing"}
    endpoints = [
        ("/api/crossings", api.crossings, NAMES),
        ("/api/crossings/{crossing_id}", api.crossing, NAMES),
        ("/api/crossings/{crossing_id}/history", api.history, NAMES),
        ("/api/status", api.status, NAMES),
        ("/api/changes", api.changes, NAMES),
        ("/api/around", api.around, crossing),
        ("/api/within", api.within, NAMES),
        ("/api/near", api.near, NAMES),
        ("/feed.atom", api.atom, NAMES),
        ("/feed.json", api.json_feed, NAMES),
        ("/crossings/{crossing_id}/feed.atom", api.atom, NAMES),
        ("/crossings/{crossing_id}/feed.json", api.json_feed, NAMES),
    ]
    return [Route(path, api.answer(ask, names), methods=["GET"]) for path, ask, names in endpoints]
