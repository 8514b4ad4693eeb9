"""Maps of a large store: pages that stay small, histories cut to their newest records.

Not timed (``bench/bench_map.py`` measures): these check what a page of a
store past the limits carries, and that what it carries is true.
"""

from __future__ import annotations

import random
import shutil
from datetime import date
from pathlib import Path

import pytest

from geo.model import LonLat
from geo.publish import HISTORY_LIMIT, maps
from geo.render import MARKER_LIMIT
from geo.status import rule_order, source_timeline, status_timeline
from geo.store import open_store
from geo.store.digest import HISTORY_KINDS
from geo.validate import parse_observation
from tests.test_render import page_data

#: More records than a page draws one by one, most of them on two crossings.
RECORDS = MARKER_LIMIT + 1500
STATUSES = ("open", "restricted", "closed")


@pytest.fixture(scope="module")
def large_store(_built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "large.gpkg"
    shutil.copy(_built_store, path)
    rng = random.Random(7)
    with open_store(path, writable=True) as store:
        crossings = store.crossings()
        chosen = [crossings["friendship-bridge"], crossings["quanhe-wonjong"]]
        template = parse_observation(
            {
                "crossing_id": "friendship-bridge",
                "date": "2024-05",
                "kind": "traffic",
                "summary": "a synthetic record",
                "source_url": "https://example.org/scale",
                "source_type": "news_report",
            },
            crossings,
        )
        dates = [
            parse_observation({**template_fields(), "date": f"{y}-{m:02d}"}, crossings).date
            for y in range(2012, 2026)
            for m in (1, 4, 7, 10)
        ]

        def records():
            for n in range(RECORDS):
                crossing = chosen[n % 2]
                assert crossing.location is not None
                kind = ("traffic", "status", "infrastructure", "context")[n % 4]
                yield template._replace(
                    id=f"s-{n:08d}",
                    crossing_id=crossing.id,
                    kind=kind,
                    status=rng.choice(("open", "restricted", "closed"))
                    if kind == "status"
                    else None,
                    date=rng.choice(dates),
                    location=LonLat(
                        crossing.location.lon + rng.uniform(-0.05, 0.05),
                        crossing.location.lat + rng.uniform(-0.05, 0.05),
                    ),
                    has_own_location=True,
                )

        store.add_observations(records(), bulk=True, expected_rows=RECORDS)
    return path


def template_fields() -> dict[str, str]:
    return {
        "crossing_id": "border",
        "kind": "traffic",
        "summary": "d",
        "source_url": "https://example.org/d",
        "source_type": "news_report",
    }


@pytest.fixture(scope="module")
def pages(large_store: Path) -> dict[str, dict]:
    return {
        name: page_data(fmap.get_root().render())
        for name, fmap in maps(large_store, as_of=date(2026, 1, 1)).items()
    }


def test_pages_of_a_large_store_draw_counts_not_a_marker_a_record(large_store, pages):
    with open_store(large_store) as store:
        total = sum(o.location is not None for o in store.observations())
    overview = pages["index"]["observations"]
    assert "summary" not in overview and "kind" not in overview  # no record's own marker
    # Every record with a point counted once, at its point (or its crossing's).
    assert sum(overview["count"]) == total
    assert len(overview["lon"]) < MARKER_LIMIT
    friendship = pages["friendship-bridge"]["observations"]
    assert "summary" not in friendship
    # A crossing's page counts the records around it; Quanhe's lie far away.
    assert 0 < sum(friendship["count"]) < total
    assert all(abs(lon - 124.39) < 0.4 for lon in friendship["lon"])


def named(data: dict, kind: str, row: list) -> dict:
    return dict(zip(data["fields"][kind], row, strict=True))


def test_a_long_history_lists_its_newest_records_and_counts_the_rest_a_year(large_store, pages):
    data = pages["friendship-bridge"]
    crossing = data["crossings"][0]
    listed = {
        data["records"][named(data, "history", row)["record"]][data["fields"]["record"].index("id")]
        for row in crossing["history"]
    }
    with open_store(large_store) as store:
        own = store.observations("friendship-bridge", include_border_wide=False)
    kinds = [o for o in own if o.kind in HISTORY_KINDS]
    newest = sorted(kinds, key=rule_order)[-HISTORY_LIMIT:]
    assert {o.id for o in newest} <= listed
    # Nothing older than the window, but for the structures' and the border's records.
    oldest_kept = min(rule_order(o) for o in newest)
    older = {o.id for o in kinds if rule_order(o) < oldest_kept}
    assert not (listed & older)
    assert crossing["historyTotal"] == len(own)
    years = [year for year, _ in crossing["perYear"]]
    assert years == sorted(years) and sum(n for _, n in crossing["perYear"]) == len(own)
    by_year: dict[int, int] = {}
    for o in own:
        by_year[o.date.end.year] = by_year.get(o.date.end.year, 0) + 1
    assert dict(map(tuple, crossing["perYear"])) == by_year


def test_a_short_history_is_listed_whole_without_counts(pages):
    sanhe = next(c for c in pages["index"]["crossings"] if c["id"] == "new-yalu-river-bridge")
    assert sanhe["perYear"] == [] and len(sanhe["history"]) <= HISTORY_LIMIT


def test_the_page_timeline_read_through_the_indexes_is_the_rule_s(large_store):
    steps = {}
    with open_store(large_store) as store:
        border = [o for o in store.observations() if o.crossing_id is None]
        for crossing_id in ("new-yalu-river-bridge", "friendship-bridge", "quanhe-wonjong"):
            own = store.observations(crossing_id, include_border_wide=False)
            in_memory = status_timeline(own + border, crossing_id, until=date(2026, 1, 1))
            indexed = source_timeline(store.status_source(crossing_id), until=date(2026, 1, 1))
            assert indexed == in_memory
            steps[crossing_id] = len(in_memory)
    # Random statuses at Quanhe: a timeline of many steps to agree on.
    assert steps["quanhe-wonjong"] > 20


def test_one_crossing_s_page_alone_is_the_page_drawn_with_all_the_others(large_store, pages):
    from geo.publish import crossing_page

    for crossing_id in ("friendship-bridge", "quanhe-wonjong"):
        alone = crossing_page(large_store, crossing_id, as_of=date(2026, 1, 1))
        # Its counts come from the index's box around it, the others' from one pass: the same.
        assert page_data(alone.get_root().render()) == pages[crossing_id]
    assert crossing_page(large_store, "no-such-crossing") is None
