from __future__ import annotations

from datetime import date

from geo.inventory import overview_map, show_crossing
from geo.render import STATUS_COLOURS


def test_overview_has_one_marker_per_located_crossing(store):
    import folium

    fmap = overview_map(store, as_of=date(2026, 11, 23))
    markers = next(c for c in fmap._children.values() if isinstance(c, folium.FeatureGroup))
    circles = [m for m in markers._children.values() if isinstance(m, folium.CircleMarker)]
    assert len(circles) == 3  # jian-manpo-road has no point in the test seed
    html = fmap.get_root().render()
    assert "Not mapped (no coordinates found): Ji&#x27;an–Manpo road bridge" in html
    assert STATUS_COLOURS["open"] in html and STATUS_COLOURS["built_not_opened"] in html
    assert "Status on 2026-11-23" in html


PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "`); alert(1); (`",
    "${alert(1)}",
    "\\x3cscript\\x3ealert(1)\\x3c/script\\x3e",
    "</script><script>alert(1)</script>",
    "Kim's bridge",
]


def test_text_from_the_store_is_escaped(store):
    from geo.inventory import add_observation

    for number, payload in enumerate(PAYLOADS):
        add_observation(
            store,
            {
                "crossing_id": "quanhe-wonjong",
                "date": "2025-06",
                "kind": "infrastructure",
                "summary": payload,
                "source_url": f"https://example.org/{number}",
                "source_type": "news_report",
            },
        )
    stored = {o.summary for o in show_crossing(store, "quanhe-wonjong").records}
    assert set(PAYLOADS) <= stored
    html = overview_map(store, as_of=date(2026, 1, 1)).get_root().render()
    for payload in PAYLOADS[:-1]:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#96;); alert(1); (&#96;" in html
    assert "&#36;{alert(1)}" in html
    assert "&#92;x3cscript" in html
    assert "Kim&#x27;s bridge" in html
