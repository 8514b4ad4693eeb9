"""The change feeds: valid Atom (RFC 4287) and JSON Feed 1.1, stable ids, text kept whole."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from click.testing import CliRunner
from lxml import etree

from geo.cli import cli
from geo.errors import RecordValidationError, UnknownCrossingError
from geo.feeds import (
    FEED_LIMIT,
    FeedSite,
    atom_feed,
    feed_base_url,
    json_feed,
    read_feed,
    write_feeds,
)
from geo.questions import transitions
from geo.record import add_observation
from geo.store.gpkg import _connect

VENDOR = Path(__file__).parent / "vendor"
ATOM = "{http://www.w3.org/2005/Atom}"
NS = {"a": "http://www.w3.org/2005/Atom"}
BASE = "https://example.org/border/"


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(VENDOR / "atom" / "atom.rng")))


@pytest.fixture(scope="module")
def json_schema() -> dict:
    return json.loads((VENDOR / "jsonfeed" / "jsonfeed-1.1.schema.json").read_text("utf-8"))


def valid_atom(data: bytes, schema: etree.RelaxNG) -> etree._Element:
    """Parse an Atom document and check it: the RELAX NG grammar, then its Schematron rules."""
    root = etree.fromstring(data)
    assert schema.validate(root), schema.error_log
    # RFC 4287 Appendix B's Schematron rules, which RELAX NG does not check.
    assert root.xpath("a:author or not(a:entry[not(a:author)])", namespaces=NS)
    for entry in root.iterfind(f"{ATOM}entry"):
        assert entry.xpath(
            "a:link[@rel='alternate'] or a:link[not(@rel)] or a:content", namespaces=NS
        )
        assert entry.xpath("a:author or ../a:author or a:source/a:author", namespaces=NS)
    # Section 4.1.1: a feed's entries have ids of their own; ids are absolute IRIs.
    ids = [e.text for e in root.iterfind(f"{ATOM}entry/{ATOM}id")]
    assert len(ids) == len(set(ids))
    assert all(urlsplit(i).scheme for i in [*ids, root.findtext(f"{ATOM}id")])
    for stamp in root.iterfind(f".//{ATOM}updated"):  # RFC 3339, with its zone
        assert datetime.fromisoformat(stamp.text).tzinfo is not None
    return root


def is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def valid_json_feed(data: bytes, schema: dict) -> dict:
    """Parse a JSON Feed and check it: the schema, then the spec's rules field by field."""
    document = json.loads(data.decode("utf-8"))
    jsonschema.validate(document, schema)
    # JSON Feed 1.1 requires version, title and items; each item an id and a content.
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["items"], list)
    assert is_url(document["home_page_url"]) and is_url(document["feed_url"])
    assert all(a.get("name") for a in document["authors"])
    ids = [item["id"] for item in document["items"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
    for item in document["items"]:
        assert "content_text" in item or "content_html" in item
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None
        assert is_url(item["url"])
        assert "external_url" not in item or is_url(item["external_url"])
    return document


def test_the_border_feed_is_valid_atom(shipped_store: Path, atom_schema):
    root = valid_atom(atom_feed(shipped_store, base_url=BASE), atom_schema)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == FEED_LIMIT
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == BASE + "feed.atom"
    assert root.find(f"{ATOM}link[@type='text/html']").get("href") == BASE + "index.html"
    assert root.findtext(f"{ATOM}author/{ATOM}name")
    hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert all(is_url(h) for h in hrefs)


def test_a_crossing_feed_is_valid_atom_and_holds_only_what_names_it(
    shipped_store: Path, atom_schema
):
    root = valid_atom(atom_feed(shipped_store, "quanhe-wonjong", base_url=BASE), atom_schema)
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == BASE + "quanhe-wonjong.feed.atom"
    pages = {e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in root.iter(f"{ATOM}entry")}
    # Its own records and status changes, and border-wide records that set its status.
    assert pages <= {BASE + "quanhe-wonjong.html", BASE + "index.html"}
    assert BASE + "quanhe-wonjong.html" in pages


def test_the_grammar_refuses_what_rfc_4287_refuses(shipped_store: Path, atom_schema):
    # Companion: the grammar is not vacuous. A feed without its id, or an entry without a
    # title, is not Atom.
    root = etree.fromstring(atom_feed(shipped_store, base_url=BASE, limit=2))
    root.remove(root.find(f"{ATOM}id"))
    assert not atom_schema.validate(root)
    root = etree.fromstring(atom_feed(shipped_store, base_url=BASE, limit=2))
    entry = root.find(f"{ATOM}entry")
    entry.remove(entry.find(f"{ATOM}title"))
    assert not atom_schema.validate(root)
    root = etree.fromstring(atom_feed(shipped_store, base_url=BASE, limit=2))
    root.find(f"{ATOM}updated").text = "2026-12-01"  # a date is not a date-time
    assert not atom_schema.validate(root)


def test_the_json_feeds_are_valid_json_feed_1_1(shipped_store: Path, json_schema):
    border = valid_json_feed(json_feed(shipped_store, base_url=BASE), json_schema)
    assert len(border["items"]) == FEED_LIMIT
    assert border["feed_url"] == BASE + "feed.json"
    own = valid_json_feed(json_feed(shipped_store, "圈河", base_url=BASE), json_schema)
    assert own["feed_url"] == BASE + "quanhe-wonjong.feed.json"
    assert own["home_page_url"] == BASE + "quanhe-wonjong.html"


def test_the_json_schema_refuses_what_the_spec_refuses(json_schema):
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}
    jsonschema.validate(good, json_schema)
    for bad in (
        {k: v for k, v in good.items() if k != "title"},
        {**good, "items": [{"id": "1"}]},  # no content
        {**good, "items": [{"content_text": "x"}]},  # no id
        {**good, "version": "https://jsonfeed.org/version/1"},
        {**good, "crossings": {}},  # an extension's name starts with an underscore
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, json_schema)


def test_entries_are_newest_first_and_say_what_they_are(shipped_store: Path):
    feed = read_feed(shipped_store, limit=1000)
    days = [e.day for e in feed.entries]
    assert days == sorted(days, reverse=True)
    assert {e.kind for e in feed.entries} == {"record", "status_change"}
    record = next(e for e in feed.entries if e.details["record"] == "o-915a1609a1")
    assert record.kind == "record" and record.crossing_id == "quanhe-wonjong"
    assert record.title.startswith("Quanhe–Wonjong")
    assert record.source_name and record.details["quote"] in record.content
    change = next(
        e
        for e in feed.entries
        if e.kind == "status_change"
        and e.crossing_id == "quanhe-wonjong"
        and e.day == date(2023, 1, 31)
    )
    assert change.title == (
        "Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason): closed → "
        "restricted: freight by road only"
    )
    assert change.details["from"] == "closed" and change.details["record"]
    assert "evidence: record" in change.content


def test_status_changes_are_those_of_crossings_changes(shipped_store: Path):
    feed = read_feed(shipped_store, "quanhe-wonjong", limit=1000)
    changes = {(e.day, e.details["to"]) for e in feed.entries if e.kind == "status_change"}
    found = transitions(shipped_store, "1900", date.today().isoformat())
    expected = {(t.day, t.after_text) for t in found if t.crossing.id == "quanhe-wonjong"}
    assert changes == expected


def test_the_number_of_entries_is_bounded(shipped_store: Path):
    assert len(read_feed(shipped_store, limit=3).entries) == 3
    for wrong in (0, -1, 1001, True):
        with pytest.raises(RecordValidationError, match="limit"):
            read_feed(shipped_store, limit=wrong)


def test_entry_ids_are_stable_across_feeds_and_addresses(shipped_store: Path):
    border = {e.details.get("record"): e.id for e in read_feed(shipped_store, limit=1000).entries}
    own = read_feed(shipped_store, "quanhe-wonjong", limit=1000).entries
    for entry in own:
        if entry.kind == "record":
            assert border[entry.details["record"]] == entry.id
    first = json.loads(json_feed(shipped_store, base_url=BASE, limit=5))
    other = json.loads(json_feed(shipped_store, base_url="http://localhost:8000", limit=5))
    assert [i["id"] for i in first["items"]] == [i["id"] for i in other["items"]]
    assert all(i["id"].startswith("urn:uuid:") for i in first["items"])


def test_an_unknown_crossing_or_address_is_refused(shipped_store: Path):
    with pytest.raises(UnknownCrossingError, match="crossing_id: 'nowhere'"):
        read_feed(shipped_store, "nowhere")
    for wrong in ("maps/", "ftp://example.org/", "https://example.org/?a=1", "javascript:x"):
        with pytest.raises(RecordValidationError, match="--base-url"):
            feed_base_url(wrong)
    assert feed_base_url("https://example.org/border") == BASE


HOSTILE = {
    "summary": "<script>alert('x')</script> ]]> & </content> 圈河口岸 원정리 עברית العربية",
    "quote": "“]]><entry><id>forged</id></entry>” <![CDATA[x]]> 中朝友谊桥",
}


def test_hostile_text_comes_back_whole(store: Path, atom_schema, json_schema):
    record_id = add_observation(
        store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2025-05",
            "kind": "traffic",
            "summary": HOSTILE["summary"],
            "source_name": "Paper <b>bold</b>",
            "source_url": "https://example.org/a?x=1&y=<2>",
            "source_type": "news_report",
            "source_quote": HOSTILE["quote"],
            "checked_on": "2025-06-01",
        },
    )
    root = valid_atom(atom_feed(store, base_url=BASE), atom_schema)
    entry = next(e for e in root.iter(f"{ATOM}entry") if record_id in e.findtext(f"{ATOM}content"))
    assert entry.findtext(f"{ATOM}title").endswith(HOSTILE["summary"])
    assert HOSTILE["quote"] in entry.findtext(f"{ATOM}content")
    assert entry.find(f"{ATOM}link[@rel='related']").get("href") == (
        "https://example.org/a?x=1&y=<2>"
    )
    assert "forged" not in [e.text for e in root.iter(f"{ATOM}id")]
    document = valid_json_feed(json_feed(store, base_url=BASE), json_schema)
    item = next(i for i in document["items"] if i["_crossings"]["record"] == record_id)
    assert item["_crossings"]["quote"] == HOSTILE["quote"]
    assert item["title"].endswith(HOSTILE["summary"])


def test_control_characters_another_program_wrote_keep_the_xml_valid(
    store: Path, atom_schema, json_schema
):
    # The tool refuses control characters; another program writing the store may not.
    connection = _connect(store, readonly=False)  # as another program would, R-tree and all
    with connection:
        connection.execute(
            "UPDATE observations SET summary = ? WHERE id = ?",
            ("bell \x07 nul-free \x1b[31m red \ufffe end", "o-c5b4b03174"),
        )
    connection.close()
    root = valid_atom(atom_feed(store, base_url=BASE), atom_schema)
    titles = [t.text for t in root.iter(f"{ATOM}title")]
    assert "The whole border: bell \ufffd nul-free \ufffd[31m red \ufffd end" in titles
    document = valid_json_feed(json_feed(store, base_url=BASE), json_schema)  # JSON keeps all
    assert "The whole border: bell \x07 nul-free \x1b[31m red \ufffe end" in [
        i["title"] for i in document["items"]
    ]


def test_a_server_says_where_its_feeds_and_pages_are(store: Path, atom_schema):
    site = FeedSite(
        "http://localhost:8000/",
        page_path=lambda c: "" if c is None else f"crossings/{c}",
        feed_path=lambda c, f: f"feed.{f}" if c is None else f"crossings/{c}/feed.{f}",
    )
    root = valid_atom(atom_feed(store, "quanhe-wonjong", base_url=site), atom_schema)
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == (
        "http://localhost:8000/crossings/quanhe-wonjong/feed.atom"
    )
    entry = root.find(f"{ATOM}entry/{ATOM}link[@rel='alternate']")
    assert entry.get("href") in (
        "http://localhost:8000/crossings/quanhe-wonjong",
        "http://localhost:8000/",
    )


def test_write_feeds_writes_every_feed_beside_the_maps(any_store: str, tmp_path: Path):
    written = write_feeds(any_store, tmp_path, BASE)
    names = {p.name for p in written.values()}
    assert {"feed.atom", "feed.json", "quanhe-wonjong.feed.atom"} <= names
    assert all(p.exists() for p in written.values())
    assert written[None, "json"] == tmp_path / "feed.json"
    with pytest.raises(RecordValidationError, match="exists already"):
        write_feeds(any_store, tmp_path, BASE)
    assert write_feeds(any_store, tmp_path, BASE, force=True) == written


def test_map_writes_the_feeds_with_a_base_url(store: Path, tmp_path: Path):
    out = tmp_path / "maps"
    result = CliRunner().invoke(
        cli,
        ["map", "--out", str(out), "--cdn", "--store", str(store), "--base-url", BASE],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == str(out / "index.html")
    assert str(out / "feed.atom") in lines and str(out / "quanhe-wonjong.feed.json") in lines
    feed = json.loads((out / "quanhe-wonjong.feed.json").read_text("utf-8"))
    assert feed["home_page_url"] == BASE + "quanhe-wonjong.html"
    assert (out / "quanhe-wonjong.html").exists()  # the page the feed links to


def test_map_without_a_base_url_writes_no_feed(store: Path, tmp_path: Path):
    out = tmp_path / "maps"
    args = ["map", "--out", str(out), "--cdn", "--store", str(store)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert not list(out.glob("*feed*"))
    result = CliRunner().invoke(cli, [*args, "--force", "--base-url", "maps/"])
    assert result.exit_code == 1
    assert "--base-url: 'maps/' is not a web address" in result.output


def test_map_refuses_an_existing_feed_before_writing_any_page(store: Path, tmp_path: Path):
    out = tmp_path / "maps"
    out.mkdir()
    (out / "feed.atom").write_text("my feed", encoding="utf-8")
    args = ["map", "--out", str(out), "--cdn", "--store", str(store), "--base-url", BASE]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "exists already" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["feed.atom"]
