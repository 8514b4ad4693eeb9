"""The read API (geo/web/api.py): the commands' JSON over HTTP, hostile parameters refused."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from click.testing import CliRunner
from lxml import etree
from starlette.applications import Starlette

from geo.cli import cli
from geo.errors import NotAStoreError
from geo.store import open_store
from geo.web.api import routes

with warnings.catch_warnings():  # Starlette's test client asks for httpx2; httpx is installed
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

VENDOR = Path(__file__).parent / "vendor"
ATOM = "{http://www.w3.org/2005/Atom}"


def client_of(store: str | Path) -> TestClient:
    app = Starlette(routes=routes(lambda: open_store(store)))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(shipped_store: Path) -> TestClient:
    return client_of(shipped_store)


def cli_json(store: str | Path, *args: str) -> object:
    result = CliRunner().invoke(cli, [*args, "--format", "json", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def api_json(client: TestClient, url: str) -> object:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


SAME_ANSWERS = [
    ("/api/crossings?as_of=2026-12-01", ["list", "--as-of", "2026-12-01"]),
    ("/api/crossings?as_of=2021-06", ["list", "--as-of", "2021-06"]),
    (
        "/api/crossings/friendship-bridge?as_of=2026-12-01",
        ["show", "friendship-bridge", "--as-of", "2026-12-01"],
    ),
    ("/api/crossings/%E5%9C%88%E6%B2%B3?as_of=2024", ["show", "圈河", "--as-of", "2024"]),
    ("/api/status?as_of=2023-09-01", ["status", "--as-of", "2023-09-01"]),
    ("/api/status?as_of=2020", ["status", "--as-of", "2020"]),
    ("/api/changes?since=2020&until=2023", ["changes", "--from", "2020", "--to", "2023"]),
    ("/api/changes?until=2023-06", ["changes", "--to", "2023-06"]),
    (
        "/api/changes?since=2025-01&until=2026-03&records=true",
        ["changes", "--from", "2025-01", "--to", "2026-03", "--records"],
    ),
    (
        "/api/around?crossing=quanhe-wonjong&km=3&since=2023&kind=infrastructure",
        ["around", "quanhe-wonjong", "--km", "3", "--since", "2023", "--kind", "infrastructure"],
    ),
    (
        "/api/around?crossing=new-yalu-river-bridge&source_type=news_report&until=2025",
        ["around", "new-yalu-river-bridge", "--source-type", "news_report", "--until", "2025"],
    ),
    ("/api/near?lat=40.10&lon=124.40&km=15", ["near", "40.10,124.40", "--km", "15"]),
    (
        "/api/near?lat=42.57&lon=130.52&km=2&observations=true",
        ["near", "42.57", "130.52", "--km", "2", "--observations"],
    ),
]


@pytest.mark.parametrize(("url", "args"), SAME_ANSWERS, ids=[u for u, _ in SAME_ANSWERS])
def test_the_api_answers_as_the_command_does(client, shipped_store: Path, url, args):
    assert api_json(client, url) == cli_json(shipped_store, *args)


def test_history_is_the_history_of_show(client, shipped_store: Path):
    shown = cli_json(shipped_store, "show", "quanhe-wonjong", "--as-of", "2026-12-01")
    answer = api_json(client, "/api/crossings/quanhe-wonjong/history?as_of=2026-12-01")
    assert answer == shown["history"] and len(answer) > 10


def test_within_a_box_is_within_a_file_of_that_box(client, shipped_store: Path, tmp_path):
    area = {
        "type": "Polygon",
        "coordinates": [
            [[124.3, 40.0], [124.45, 40.0], [124.45, 40.15], [124.3, 40.15], [124.3, 40.0]]
        ],
    }
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": area}))
    answer = api_json(client, "/api/within?bbox=124.30,40.00,124.45,40.15")
    assert answer == cli_json(shipped_store, "within", str(path))
    assert {r["type"] for r in answer} == {"crossing", "observation"}


def test_an_empty_answer_is_an_empty_list(client):
    assert api_json(client, "/api/near?lat=0&lon=0&km=1") == []
    assert api_json(client, "/api/within?bbox=0,0,1,1") == []


def test_a_long_answer_is_streamed_in_pieces_and_a_short_one_sent_whole(client, monkeypatch):
    whole = client.get("/api/crossings/quanhe-wonjong/history")
    assert whole.status_code == 200 and int(whole.headers["content-length"]) == len(whole.content)
    monkeypatch.setattr("geo.web.api.CHUNK_BYTES", 256)  # the same answer, longer than a piece
    streamed = client.get("/api/crossings/quanhe-wonjong/history")
    assert streamed.status_code == 200 and "content-length" not in streamed.headers
    assert streamed.json() == whole.json() and len(whole.content) > 3 * 256


@pytest.mark.parametrize("store_kind", ["gpkg", "postgis"])
def test_both_backends_answer_alike(store_kind, request):
    store = request.getfixturevalue("store" if store_kind == "gpkg" else "database")
    client = client_of(store)
    for url, args in (
        ("/api/status?as_of=2023-09-01", ["status", "--as-of", "2023-09-01"]),
        ("/api/around?crossing=quanhe-wonjong&km=5", ["around", "quanhe-wonjong", "--km", "5"]),
        ("/api/crossings/quanhe-wonjong?as_of=2024", ["show", "quanhe-wonjong", "--as-of", "2024"]),
    ):
        assert api_json(client, url) == cli_json(store, *args)
    assert client.get("/api/crossings/nowhere").status_code == 404


BAD = [
    ("/api/status?as_of=2023-13", "as_of", "2023-13"),
    ("/api/status?as_of=yesterday", "as_of", "yesterday"),
    ("/api/crossings?as_of=2020-02-30", "as_of", "2020-02-30"),
    ("/api/changes?since=2024&until=2023", "since", "2024"),
    ("/api/changes?records=maybe", "records", "maybe"),
    ("/api/around?km=3", "crossing", None),
    ("/api/around?crossing=quanhe-wonjong&km=-1", "km", "-1"),
    ("/api/around?crossing=quanhe-wonjong&km=nan", "km", "nan"),
    ("/api/around?crossing=quanhe-wonjong&km=1e999", "km", "1e999"),
    ("/api/around?crossing=quanhe-wonjong&kind=rumour", "kind", "rumour"),
    ("/api/around?crossing=quanhe-wonjong&source_type=blog%3F", "source_type", "blog?"),
    ("/api/around?crossing=quanhe-wonjong&since=2023-02-29", "since", "2023-02-29"),
    ("/api/near?lat=91&lon=124", "lat", "91"),
    ("/api/near?lat=40&lon=abc", "lon", "abc"),
    ("/api/near?lat=40", "lon", None),
    ("/api/near?lat=40&lon=124&km=4_0", "km", "4_0"),
    ("/api/near?lat=40&lon=124&observations=2", "observations", "2"),
    ("/api/within", "bbox", None),
    ("/api/within?bbox=1,2,3", "bbox", "1,2,3"),
    ("/api/within?bbox=3,2,1,4", "bbox", "3,2,1,4"),
    ("/api/within?bbox=0,0,200,1", "bbox", "0,0,200,1"),
    ("/api/within?bbox=nan,0,1,1", "bbox", "nan,0,1,1"),
    ("/api/crossings?as_of=2020&as_of=2021", "as_of", "2021"),
    ("/api/crossings?asof=2020", "asof", "2020"),
    ("/feed.atom?limit=5", "limit", "5"),
    ("/api/crossings/border", "id", "border"),
]


@pytest.mark.parametrize(("url", "parameter", "value"), BAD, ids=[u for u, _, _ in BAD])
def test_a_bad_parameter_is_a_400_naming_it(client, url, parameter, value):
    answer = client.get(url)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["status"] == 400
    assert error["parameter"] == parameter and error["value"] == value
    assert error["allowed"] and error["fix"] and error["message"].startswith(f"{parameter}: ")
    assert "Traceback" not in answer.text and "--" not in error["parameter"]


def test_one_message_in_full(client):
    error = client.get("/api/around?crossing=quanhe-wonjong&km=-1").json()["error"]
    assert error == {
        "status": 400,
        "parameter": "km",
        "value": "-1",
        "problem": "is not a distance",
        "allowed": "a number of kilometres from 0 to 20,038",
        "fix": "give e.g. km=3",
        "message": "km: '-1' is not a distance. Allowed: a number of kilometres from 0 to 20,038",
    }


NOT_FOUND = [
    ("/api/crossings/nowhere", "id"),
    ("/api/crossings/nowhere/history", "id"),
    ("/api/around?crossing=nowhere", "crossing"),
    ("/crossings/nowhere/feed.atom", "id"),
    ("/crossings/nowhere/feed.json", "id"),
    ("/api/crossings/Sinuiju", "id"),  # a name two crossings share
]


@pytest.mark.parametrize(("url", "parameter"), NOT_FOUND, ids=[u for u, _ in NOT_FOUND])
def test_an_unknown_crossing_is_a_404(client, url, parameter):
    answer = client.get(url)
    assert answer.status_code == 404
    assert answer.json()["error"]["parameter"] == parameter


HOSTILE = [
    "1' OR '1'='1",
    "x'; DROP TABLE observations; --",
    '" UNION SELECT * FROM crossings --',
    "<script>alert(1)</script>",
    "]]><x/>",
    "\u202eevil",
    "a\x00b",
    "%00",
    "../../etc/passwd",
    "x" * 5000,
]
PARAMETERS = {
    "/api/crossings": ["as_of"],
    "/api/status": ["as_of"],
    "/api/changes": ["since", "until", "records"],
    "/api/around?crossing=quanhe-wonjong": ["km", "since", "until", "kind", "source_type"],
    "/api/near?lat=40&lon=124": ["km", "observations"],
    "/api/near?lon=124": ["lat"],
    "/api/within": ["bbox"],
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_are_only_values(store: Path, value: str):
    client = client_of(store)
    before = digest(store)
    for address, names in PARAMETERS.items():
        for name in names:
            joiner = "&" if "?" in address else "?"
            answer = client.get(f"{address}{joiner}{urlencode({name: value})}")
            assert answer.status_code == 400, (address, name, answer.text)
            error = answer.json()["error"]
            assert error["parameter"] == name
            assert isinstance(error["value"], str) and len(error["value"]) <= 201
    for path in ("/api/crossings/{}", "/api/crossings/{}/history", "/crossings/{}/feed.atom"):
        answer = client.get(path.format(quote(value, safe="")))
        assert answer.status_code in (400, 404), answer.text
        assert "Traceback" not in answer.text
        if "/" not in value:  # else the address is another one, which no route serves
            assert answer.headers["content-type"].startswith("application/json")
    answer = client.get("/api/around", params={"crossing": value})
    assert answer.status_code in (400, 404) and answer.json()["error"]["parameter"] == "crossing"
    assert digest(store) == before  # nothing was written


def test_the_feeds_are_served(client):
    schema = etree.RelaxNG(etree.parse(str(VENDOR / "atom" / "atom.rng")))
    answer = client.get("/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(answer.content)
    assert schema.validate(root), schema.error_log
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/feed.atom"
    answer = client.get("/crossings/quanhe-wonjong/feed.json")
    assert answer.headers["content-type"].startswith("application/feed+json")
    feed = answer.json()
    assert feed["feed_url"] == "http://testserver/crossings/quanhe-wonjong/feed.json"
    assert feed["home_page_url"] == "http://testserver/quanhe-wonjong.html"
    assert feed["items"]


def test_a_given_address_and_pages_make_the_links(shipped_store: Path):
    app = Starlette(
        routes=routes(
            lambda: open_store(shipped_store),
            base_url="https://example.org/border",
            page_path=lambda c: "" if c is None else f"crossings/{c}",
            feed_limit=3,
        )
    )
    feed = TestClient(app).get("/crossings/quanhe-wonjong/feed.json").json()
    assert feed["feed_url"] == "https://example.org/border/crossings/quanhe-wonjong/feed.json"
    assert feed["home_page_url"] == "https://example.org/border/crossings/quanhe-wonjong"
    assert len(feed["items"]) == 3


def test_a_store_that_cannot_be_read_is_a_503_without_its_path(tmp_path: Path):
    missing = tmp_path / "secret-folder" / "crossings.gpkg"

    def opener():
        raise NotAStoreError(f"{missing}: no such store")

    client = TestClient(Starlette(routes=routes(opener)), raise_server_exceptions=False)
    answer = client.get("/api/crossings")
    assert answer.status_code == 503
    assert "secret-folder" not in answer.text and "Traceback" not in answer.text
    assert answer.json()["error"]["status"] == 503


def test_only_get_is_answered(client):
    assert client.post("/api/crossings").status_code == 405
    assert client.head("/api/status?as_of=2020").status_code == 200


def test_the_token_of_no_session_checks_nothing():
    from geo.web.session import Session

    assert not Session(None, "").checks("")
    assert Session(None, "abc").checks("abc") and not Session(None, "abc").checks("")
