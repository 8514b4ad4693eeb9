"""Exports other tools read, and imports that give back the same records."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.build import init_inventory
from geo.cli import cli
from geo.errors import BatchValidationError, RecordValidationError
from geo.publish import export_inventory
from geo.record import import_observations
from geo.store import open_store
from geo.validate import parse_observation
from tests.common import SHIPPED_MAPPED, SHIPPED_UNMAPPED, run_gdal_validator

FORMATS = ["geojson", "csv", "kml"]


@pytest.fixture(scope="module")
def empty_store_file(tmp_path_factory, data_dir) -> Path:
    """A store of the test seed's crossings with no observations."""
    seed = tmp_path_factory.mktemp("seed")
    for name in ("crossings.csv", "structures.csv", "trade.csv"):
        shutil.copyfile(data_dir / "seed" / name, seed / name)
    header = (data_dir / "seed" / "observations.csv").read_text(encoding="utf-8").splitlines()[0]
    (seed / "observations.csv").write_text(header + "\n", encoding="utf-8")
    path = tmp_path_factory.mktemp("empty") / "empty.gpkg"
    init_inventory(path, seed=seed)
    return path


def fresh_copy(source: Path, folder: Path) -> Path:
    target = folder / "copy.gpkg"
    shutil.copyfile(source, target)
    return target


def items_in(path: Path) -> int:
    """Count what an export file holds, read back as another tool would."""
    import pyogrio

    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return sum(1 for _ in csv.DictReader(handle))
    if path.suffix in (".geojson", ".json"):
        return len(json.loads(path.read_text(encoding="utf-8"))["features"])
    source = f"/vsizip/{path}/doc.kml" if path.suffix == ".kmz" else str(path)
    return sum(
        pyogrio.read_info(source, layer=name)["features"] for name, _ in pyogrio.list_layers(source)
    )


def records_of(path: Path) -> dict[str, object]:
    with open_store(path) as opened:
        return {o.id: o for o in opened.observations()}


@pytest.mark.parametrize("output_format", FORMATS)
def test_export_then_import_gives_the_same_records(
    store, empty_store_file, tmp_path, output_format
):
    out = tmp_path / f"export.{output_format}"
    counts = export_inventory(store, out, output_format)
    written = {"geojson": "features", "csv": "rows", "kml": "placemarks"}[output_format]
    left_out = set()
    if output_format == "geojson":  # records with no point at all are listed, not drawn
        left_out = {r["id"] for r in json.loads(out.read_text(encoding="utf-8"))["left_out"]}
        assert counts.pop("left_out") == len(left_out) > 0
    assert counts == {"crossings": 4, "observations": 14, written: items_in(out)}
    target = fresh_copy(empty_store_file, tmp_path)
    report = import_observations(target, out)
    assert report.ignored_fields == []
    kept = {i: o for i, o in records_of(store).items() if i not in left_out}
    assert records_of(target) == kept


def test_gdal_reads_every_export(store, tmp_path):
    import pyogrio

    for output_format in FORMATS:
        out = tmp_path / f"e.{output_format}"
        export_inventory(store, out, output_format)
        layers = [name for name, _ in pyogrio.list_layers(out)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frames = [pyogrio.read_dataframe(out, layer=layer) for layer in layers]
        total = sum(len(frame) for frame in frames)
        fields = set().union(*(frame.columns for frame in frames))
        wanted = {
            "crossing_id",
            "date",
            "precision",
            "kind",
            "status",
            "summary",
            "source_name",
            "source_url",
            "source_type",
            "side",
            "replaces",
            "notes",
            "recorded_at",
        }
        assert wanted <= fields, (output_format, wanted - fields)
        left_out = 0
        if output_format == "geojson":
            left_out = len(json.loads(out.read_text(encoding="utf-8"))["left_out"])
        expected = {"geojson": 14 - left_out, "csv": 14}.get(output_format)
        if expected is not None:
            assert total == expected, output_format
        else:  # KML: a folder per crossing, status periods and observations
            assert "Sino-Korean Friendship Bridge (Dandong–Sinuiju)" in layers
            assert total > 14


def test_geojson_is_rfc_7946(store, tmp_path):
    out = tmp_path / "e.geojson"
    export_inventory(store, out, "geojson")
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert "crs" not in collection
    features = collection["features"]
    assert all(f["geometry"] is not None for f in features)  # no null geometry
    assert {f["properties"]["layer"] for f in features} == {"observation"}
    at_friendship = [f for f in features if f["properties"]["crossing_id"] == "friendship-bridge"]
    placed = [f for f in at_friendship if not f["properties"]["has_own_location"]]
    assert placed and placed[0]["geometry"]["coordinates"] == [124.3925, 40.115]  # lon, lat
    assert all(entry["why"].startswith("no point") for entry in collection["left_out"])
    months = [f for f in features if f["properties"].get("precision") == "month"]
    assert months and all(len(f["properties"]["date"]) == 7 for f in months)


def test_geojson_zip_holds_one_collection_per_layer(shipped_store, tmp_path):
    import zipfile

    out = tmp_path / "layers.zip"
    counts = export_inventory(shipped_store, out, "geojson")
    with zipfile.ZipFile(out) as archive:  # one file: GDAL opens a zip whole only then
        assert archive.namelist() == ["crossings-structures-observations.geojson"]
        collection = json.loads(archive.read(archive.namelist()[0]))
    features = collection["features"]
    layers = {f["featureType"] for f in features}
    assert layers == {"crossings", "structures", "observations"}
    crossings = [f for f in features if f["featureType"] == "crossings"]
    assert len(crossings) == SHIPPED_MAPPED
    missing = [e for e in collection["left_out"] if e["layer"] == "crossings"]
    assert len(missing) == SHIPPED_UNMAPPED
    assert all(f["geometry"] is not None for f in features)
    assert all(f["properties"]["layer"] + "s" == f["featureType"] for f in features)
    assert counts["features"] == len(features)


def test_csv_has_a_byte_order_mark_for_spreadsheets(store, tmp_path):
    out = tmp_path / "e.csv"
    export_inventory(store, out, "csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 14 and rows[0]["crossing_id"]


def test_kml_points_come_back_lon_lat(store, tmp_path):
    import pyogrio

    out = tmp_path / "e.kml"
    export_inventory(store, out, "kml", crossing_id="quanhe-wonjong")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame = pyogrio.read_dataframe(
            out, layer="Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason)"
        )
    point = frame.geometry.iloc[0]
    assert (round(point.x, 6), round(point.y, 6)) == (130.523456, 42.568379)
    periods = frame[frame["placemark"] == "status period"]
    name = "Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason)"
    assert list(periods["Name"]) == [
        f"{name}: open",
        f"{name}: closed",
        f"{name}: open",
    ]  # 2016, 2020, 2023
    assert periods["begin"].notna().all()
    # Pins in the map's status colours, as Google Earth draws them (KML colours are aabbggrr).
    import xml.etree.ElementTree as ET

    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(out).getroot()
    styles = {
        s.get("id"): s.find("k:IconStyle/k:color", ns).text
        for s in root.iter("{http://www.opengis.net/kml/2.2}Style")
    }
    assert styles["status-open"] == "ff50981a" and styles["status-closed"] == "ff2730d7"
    urls = [
        (p.find("k:name", ns).text, p.find("k:styleUrl", ns).text)
        for p in root.iter("{http://www.opengis.net/kml/2.2}Placemark")
    ]
    assert (f"{name}: closed", "#status-closed") in urls
    assert all(url.lstrip("#") in styles for _, url in urls)


def test_gpkg_subset_is_a_valid_store(store, tmp_path):
    out = tmp_path / "quanhe.gpkg"
    counts = export_inventory(store, out, "gpkg", crossing_id="quanhe-wonjong", since="2023")
    assert counts == {"crossings": 1, "observations": 2}
    assert len(records_of(out)) == counts["observations"]
    assert run_gdal_validator(out).returncode == 0
    with open_store(out) as opened:
        assert list(opened.crossings()) == ["quanhe-wonjong"]
        assert opened.integrity_problems() == []


def test_a_subset_keeps_the_record_a_correction_replaces(store, tmp_path):
    from geo.record import add_observation

    old = add_observation(
        store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2019",
            "kind": "status",
            "status": "open",
            "summary": "first",
            "source_url": "https://example.org/1",
            "source_type": "news_report",
        },
    )
    add_observation(
        store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2024",
            "kind": "status",
            "status": "closed",
            "summary": "fixed",
            "source_url": "https://example.org/2",
            "source_type": "news_report",
            "replaces": old,
        },
    )
    out = tmp_path / "s.gpkg"
    export_inventory(store, out, "gpkg", since="2024")
    assert old in records_of(out)


def test_export_refuses_to_overwrite(store, tmp_path):
    out = tmp_path / "e.csv"
    out.write_text("keep me")
    with pytest.raises(RecordValidationError, match=r"--out: .* exists already.*--force"):
        export_inventory(store, out, "csv")
    assert out.read_text() == "keep me"


def test_google_earth_placemarks_with_set_and_a_report(store, tmp_path):
    kml = tmp_path / "placemarks.kml"
    kml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Document><Placemark><name>New sheds by the DPRK landing</name>"
        "<description>Seen on 2025 imagery</description>"
        "<TimeStamp><when>2025-04-02</when></TimeStamp>"
        '<ExtendedData><Data name="analyst"><value>kim</value></Data></ExtendedData>'
        "<Point><coordinates>124.37,40.036,0</coordinates></Point></Placemark></Document></kml>",
        encoding="utf-8",
    )
    with pytest.raises(BatchValidationError, match=r"row 1: crossing_id: '' is not a crossing"):
        import_observations(store, kml)
    report = import_observations(
        store,
        kml,
        defaults={
            "crossing_id": "new-yalu-river-bridge",
            "kind": "infrastructure",
            "source_type": "satellite_imagery",
            "source_url": "https://example.org/imagery",
        },
    )
    assert report.ignored_fields == ["analyst"]
    (record,) = [records_of(store)[i] for i in report.ids]
    assert (record.summary, record.date.text, record.notes) == (
        "New sheds by the DPRK landing",
        "2025-04-02",
        "Seen on 2025 imagery",
    )
    assert record.has_own_location and (record.location.lon, record.location.lat) == (
        124.37,
        40.036,
    )


def test_cli_export_and_import(store, empty_store_file, tmp_path):
    out = tmp_path / "e.csv"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["export", "--format", "csv", "--out", str(out), "--store", str(store)]
    )
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "out": str(out),
        "crossings": 4,
        "observations": 14,
        "rows": items_in(out),
    }
    target = fresh_copy(empty_store_file, tmp_path)
    result = runner.invoke(cli, ["import", str(out), "--store", str(target)])
    assert result.exit_code == 0
    assert json.loads(result.output)["imported"] == 14
    result = runner.invoke(cli, ["import", str(out), "--store", str(target), "--set", "kind"])
    assert result.exit_code == 1
    assert "Error: --set: 'kind' is not FIELD=VALUE" in result.output


text = st.text(
    alphabet=st.sampled_from(list("abcXYZ 신의주新义州圈河원정 '\"`<>&${}%\\,;\t\n|=#")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())
# A field of one line (a name) may hold no newline or tab.
line = text.map(lambda s: " ".join(s.split())).filter(bool)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    summaries=st.lists(
        text, min_size=1, max_size=4, unique_by=lambda s: " ".join(s.split()).casefold()
    ),
    when=st.sampled_from(["2019", "2021-06", "2024-02-29", "2025-03"]),
    note=text,
    name=line,
    own=st.booleans(),
    output_format=st.sampled_from(FORMATS),
)
def test_round_trips_keep_every_character(
    empty_store_file, tmp_path_factory, summaries, when, note, name, own, output_format
):
    folder = tmp_path_factory.mktemp("round")
    source = fresh_copy(empty_store_file, folder)
    with open_store(source, writable=True) as opened:
        crossings = opened.crossings()
        records = [
            parse_observation(
                {
                    "crossing_id": "quanhe-wonjong",
                    "date": when,
                    "kind": "infrastructure",
                    "summary": summary,
                    "notes": note,
                    "source_name": name,
                    "source_type": "secondary",
                    "source_url": "https://example.org/x?a=1&b=신",
                    **({"lat": "42.57", "lon": "130.52"} if own else {}),
                },
                crossings,
                now=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for summary in summaries
        ]
        opened.add_observations(records)
    out = folder / f"e.{output_format}"
    export_inventory(source, out, output_format)
    target = folder / "target.gpkg"
    shutil.copyfile(empty_store_file, target)
    import_observations(target, out)
    assert records_of(target) == records_of(source)


def test_import_geojson_saved_by_gdal_as_qgis_does(store, empty_store_file, tmp_path):
    """QGIS's "Save Features As… GeoJSON" writes the layer through GDAL, as here."""
    import pyogrio

    out = tmp_path / "observations.geojson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame = pyogrio.read_dataframe(store, layer="observations", fid_as_index=True)
    frame.reset_index().to_file(out, driver="GeoJSON")
    target = fresh_copy(empty_store_file, tmp_path)
    report = import_observations(target, out)
    assert report.ignored_fields == ["fid"]  # the layer's feature id; ids are derived
    assert records_of(target) == records_of(store)


def _feature(geometry: object = None, **properties: object) -> dict[str, object]:
    base = {
        "crossing_id": "quanhe-wonjong",
        "date": "2025-03",
        "kind": "infrastructure",
        "summary": "New gate",
        "source_url": "https://example.org/g",
        "source_type": "news_report",
    }
    return {"type": "Feature", "geometry": geometry, "properties": {**base, **properties}}


def _point(*coordinates: object) -> dict[str, object]:
    return {"type": "Point", "coordinates": list(coordinates)}


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (42, r"row 2: feature: '42' is not an object"),
        ({"type": "Feature", "properties": ["a"]}, r"row 2: properties: \"\['a'\]\" is not an"),
        (_feature("POINT (130 42)"), r"row 2: geometry: 'POINT \(130 42\)' is not supported"),
        (_feature(_point()), r"row 2: geometry.coordinates: '\[\]' is not a point"),
        (_feature(_point(130.5)), r"row 2: geometry.coordinates: '\[130.5\]' is not a point"),
        (_feature(_point(130.5, "42.5")), r"geometry.coordinates: .* is not a point"),
        (_feature(_point(True, 42.5)), r"geometry.coordinates: .* is not a point"),
        (_feature(_point(130.5, 42.5), lat="40.1"), r"row 2: lat: '40.1' contradicts the geom"),
        (_feature(_point(130.52, 42.57), notes={"a": 1}), r"row 2: notes: .* is a list or an ob"),
    ],
)
def test_geojson_rows_that_cannot_be_read_are_refused_by_number(store, tmp_path, feature, message):
    path = tmp_path / "in.geojson"
    good = _feature(_point(130.52, 42.57), summary="A good row")
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [good, feature]}))
    before = store.read_bytes()
    with pytest.raises(BatchValidationError, match=message):
        import_observations(store, path)
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, r"is nested too deeply to be GeoJSON"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            '{"type": "Point", "coordinates": [' + "1" * 5_001 + ", 42]}}]}",
            r"cannot be read as JSON \(parse error: integer overflow, at '.*\[1111",
        ),
        (  # NaN is not JSON (RFC 8259): the parser names where it stands
            (
                '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
                '{"type": "Point", "coordinates": [NaN, 42]}, "properties": {}}]}'
            ),
            r"cannot be read as JSON \(lexical error: invalid char in json text, at '.*\[NaN, 42\]",
        ),
        ('{"type": "FeatureCollection", "features": []} x', r"parse error: trailing garbage"),
    ],
)
def test_geojson_files_that_cannot_be_read_say_why(store, tmp_path, text, message):
    path = tmp_path / "in.geojson"
    path.write_text(text)
    with pytest.raises((RecordValidationError, BatchValidationError), match=message):
        import_observations(store, path)


def _collection(features: list[dict], **members: object) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features, **members})


def _point_feature(n: int) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [130.52 + n % 97 / 1e4, 42.57]},
        "properties": {"crossing_id": "quanhe-wonjong", "date": "2024-05", "kind": "traffic",
                       "summary": f"trucks seen {n}", "source_url": "https://example.org/n",
                       "source_type": "satellite_imagery"},
    }  # fmt: skip


def test_a_geojson_file_is_read_a_feature_at_a_time(tmp_path):
    import tracemalloc

    from geo.exchange import iter_rows

    def peak(count: int) -> int:
        path = tmp_path / f"{count}.geojson"
        path.write_text(_collection([_point_feature(n) for n in range(count)]))
        tracemalloc.start()
        try:
            read = sum(1 for _ in iter_rows(path))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert read == count

    small, large = peak(2_000), peak(40_000)
    assert large < small * 1.5 + 200_000, (small, large)  # whole, it was about 20x


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (  # the declaration after the features: the rows read are not written
            _collection([_point_feature(1)], crs={"properties": {"name": "EPSG:3857"}}),
            r"crs: 'EPSG:3857' of in.geojson is not WGS84",
        ),
        (
            _collection([_point_feature(1)])[:-1] + ', "features": []}',
            r'has two "features" members',
        ),
        (json.dumps({**_point_feature(1), "features": []}), r"is not a GeoJSON FeatureCollection"),
    ],
)
def test_geojson_members_after_the_features_still_count(store, tmp_path, text, message):
    path = tmp_path / "in.geojson"
    path.write_text(text)
    before = store.read_bytes()
    with pytest.raises(RecordValidationError, match=message):
        import_observations(store, path)
    assert store.read_bytes() == before


@pytest.mark.parametrize("name", ['"replaces"', '"r\\u0065places"'])
def test_a_geojson_correction_keeps_the_history_it_replaces(store, tmp_path, name):
    # A row today's rules refuse is kept when a later row corrects it: the file's first
    # pass finds the corrections, even under a name written with an escape.
    history = {"crossing_id": "quanhe-wonjong", "date": "2019", "kind": "traffic",
               "status": "built_not_opened", "summary": "an old row", "source_name": "KBS",
               "source_type": "news_report"}  # fmt: skip
    with open_store(store) as opened:
        old = parse_observation(history, opened.crossings(), as_recorded=True).id
    correction = {**history, "kind": "status", "status": "closed", "date": "2020",
                  "summary": "its correction",
                  "source_url": "https://example.org/c", "replaces": old}  # fmt: skip
    features = [{"type": "Feature", "geometry": None, "properties": p}
                for p in (history, correction)]  # fmt: skip
    path = tmp_path / "history.geojson"
    path.write_text(_collection(features).replace('"replaces"', name))
    assert import_observations(store, path).ids[0] == old


def test_a_file_is_counted_across_its_blocks(tmp_path):
    from geo.record import _counts

    path = tmp_path / "blocks.geojson"
    path.write_bytes(b"x" * ((1 << 20) - 4) + b'"Feature"' * 3 + b"y" * (1 << 20))
    assert _counts(path, b'"Feature"', b"x", b"y", b"\\u") == [3, (1 << 20) - 4, 1 << 20, 0]


def test_geojson_of_one_feature_or_of_none_is_read(store, tmp_path):
    from geo.exchange import read_rows

    one, none = tmp_path / "one.geojson", tmp_path / "none.geojson"
    one.write_text(json.dumps(_point_feature(7)))
    none.write_text(_collection([]))
    assert [fields["summary"] for _, fields in read_rows(one)] == ["trucks seen 7"]
    assert read_rows(none) == []


def test_csv_with_a_repeated_column_or_extra_cells_is_refused(store, tmp_path):
    header = "crossing_id,date,kind,summary,source_url,source_type"
    row = "quanhe-wonjong,2025-03,infrastructure,New gate,https://example.org/g,news_report"
    path = tmp_path / "in.csv"
    path.write_text(header + ",summary\n" + row + ",Other text\n")
    before = store.read_bytes()
    with pytest.raises(RecordValidationError, match=r"names the column 'summary' more than once"):
        import_observations(store, path)
    path.write_text(header + "\n" + row + "\n" + row.replace("New", "Old") + ",lost cell\n")
    with pytest.raises(
        BatchValidationError, match=r"row 3: row: '7 cells' has more cells than the header's 6"
    ):
        import_observations(store, path)
    assert store.read_bytes() == before


def test_csv_export_neutralises_formula_cells_and_import_reads_them_back(
    empty_store_file, tmp_path
):
    source = fresh_copy(empty_store_file, tmp_path)
    formulas = ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)"]
    with open_store(source, writable=True) as opened:
        crossings = opened.crossings()
        opened.add_observations(
            [
                parse_observation(
                    {
                        "crossing_id": "quanhe-wonjong",
                        "date": "2025-03",
                        "kind": "infrastructure",
                        "summary": formula,
                        "source_name": formula,
                        "source_url": "https://example.org/x",
                        "source_type": "news_report",
                    },
                    crossings,
                )
                for formula in formulas
            ]
        )
    out = tmp_path / "out.csv"
    export_inventory(source, out, "csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        cells = [row["summary"] for row in csv.DictReader(handle)]
    assert sorted(cells) == sorted("'" + f for f in formulas)
    target = tmp_path / "target.gpkg"
    shutil.copyfile(empty_store_file, target)
    import_observations(target, out)
    assert {o.summary for o in records_of(target).values()} == set(formulas)
    assert records_of(target).keys() == records_of(source).keys()


def test_kml_export_is_valid_ogc_kml_2_2(shipped_store, tmp_path):
    from fastkml import validator  # bundles the OGC KML 2.2 schema

    out = tmp_path / "all.kml"
    export_inventory(shipped_store, out, "kml")
    assert validator.validate(file_to_validate=out) is True
    broken = tmp_path / "broken.kml"  # the check can fail: an element out of the schema's order
    broken.write_text(
        out.read_text(encoding="utf-8").replace("<Document id=\"root_doc\">",
                                                "<Document id=\"root_doc\"><styleUrl/><name/>"),
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(AssertionError):
        validator.validate(file_to_validate=broken)


def test_csv_zip_holds_one_file_per_layer_and_reads_back(
    shipped_store, store, empty_store_file, tmp_path
):
    import io
    import zipfile

    out = tmp_path / "all.zip"
    counts = export_inventory(shipped_store, out, "csv")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "crossings.csv", "observations.csv", "structures.csv", "trade.csv"
        ]  # fmt: skip
        tables = {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()
        }
    crossings = {r["id"]: r for r in tables["crossings.csv"]}
    assert len(crossings) == counts["crossings"] == 17
    assert crossings["quanhe-wonjong"]["name_zh"] == "圈河口岸"
    assert crossings["quanhe-wonjong"]["lat"].startswith("42.568")
    assert len(tables["observations.csv"]) == counts["rows"] == counts["observations"]
    named = {r["crossing_id"]: r["crossing_name"] for r in tables["observations.csv"]}
    assert named["friendship-bridge"].startswith("Sino-Korean Friendship Bridge")
    assert len(tables["structures.csv"]) == counts["structures_rows"] == 16
    assert (
        len(tables["trade.csv"]) == counts["trade_rows"] and tables["trade.csv"][0]["source_name"]
    )
    # The observations file reads back into the same records (its crossing_name is skipped).
    small = tmp_path / "small.zip"
    export_inventory(store, small, "csv")
    inner = tmp_path / "observations.csv"
    with zipfile.ZipFile(small) as archive:
        inner.write_bytes(archive.read("observations.csv"))
    target = fresh_copy(empty_store_file, tmp_path)
    report = import_observations(target, inner)
    assert report.ignored_fields == []
    assert records_of(target).keys() == records_of(store).keys()


def test_each_layer_csv_lists_every_field_its_records_have(shipped_store):
    from geo.exchange import (
        CROSSING_COLUMNS,
        STRUCTURE_COLUMNS,
        TRADE_COLUMNS,
        crossing_fields,
        structure_fields,
        trade_fields,
    )

    with open_store(shipped_store) as opened:
        crossing = next(iter(opened.crossings().values()))
        structure = next(iter(opened.structures().values()))
        figure = opened.trade()[0]
    assert tuple(crossing_fields(crossing)) == CROSSING_COLUMNS
    assert tuple(structure_fields(structure)) == STRUCTURE_COLUMNS
    assert tuple(trade_fields(figure)) == TRADE_COLUMNS


# -- exports that other tools open whole ------------------------------------------

KML_NS = "{http://www.opengis.net/kml/2.2}"
HOSTILE = 'Gate <script>alert("x")</script> ]]> & <![CDATA[ok]]> &amp; done'


def add_records(path: Path, rows: list[dict[str, str]]) -> list[str]:
    """Add records to a store; return their ids."""
    with open_store(path, writable=True) as opened:
        crossings = opened.crossings()
        records = [
            parse_observation(
                {
                    "crossing_id": "quanhe-wonjong",
                    "kind": "infrastructure",
                    "source_type": "secondary",
                    "source_url": "https://example.org/a?b=1&c=2",
                    **row,
                },
                crossings,
                now=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for row in rows
        ]
        opened.add_observations(records)
    return [r.id for r in records]


def kml_root(path: Path):
    import xml.etree.ElementTree as ET
    import zipfile

    if path.suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            return ET.fromstring(archive.read("doc.kml"))
    return ET.parse(path).getroot()


def simple_data(placemark) -> dict[str, str]:
    return {d.get("name"): d.text for d in placemark.iter(f"{KML_NS}SimpleData")}


def test_kml_times_keep_the_precision_of_the_record(store, tmp_path):
    add_records(
        store,
        [
            {"date": "2008", "summary": "A year"},
            {"date": "2009-06", "summary": "A month"},
            {"date": "2010-06-01", "summary": "A day"},
        ],
    )
    out = tmp_path / "e.kml"
    export_inventory(store, out, "kml")
    when = {
        simple_data(p).get("summary"): [w.text for w in p.iter(f"{KML_NS}when")]
        for p in kml_root(out).iter(f"{KML_NS}Placemark")
    }
    assert when["A year"] == ["2008"]
    assert when["A month"] == ["2009-06"]
    assert when["A day"] == ["2010-06-01"]
    # GDAL reads a day and a month as dates (the import reads the date field, not the time).
    import pyogrio

    frame = pyogrio.read_dataframe(
        out, layer="Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason)"
    ).set_index("summary")
    assert str(frame.loc["A day", "timestamp"])[:10] == "2010-06-01"
    assert frame.loc["A year", "date"] == "2008"


def test_kml_document_has_one_name_and_one_schema_per_kind(store, tmp_path):
    out = tmp_path / "e.kml"
    before = datetime.now(UTC).date()
    counts = export_inventory(store, out, "kml")
    after = datetime.now(UTC).date()
    document = kml_root(out).find(f"{KML_NS}Document")
    names = document.findall(f"{KML_NS}name")
    assert len(names) == 1
    periods = counts["placemarks"] - counts["observations"]
    said = names[0].text
    assert said.startswith(
        f"4 China–DPRK border crossings: {periods} status periods and 14 observations, "
    )
    assert said.rsplit("exported ", 1)[1] in {before.isoformat(), after.isoformat()}
    schemas = {
        s.get("id"): {f.get("name") for f in s.iter(f"{KML_NS}SimpleField")}
        for s in kml_root(out).iter(f"{KML_NS}Schema")
    }
    assert len(list(kml_root(out).iter(f"{KML_NS}Schema"))) == len(schemas) == 2
    assert set(schemas) == {"status_period", "observation"}
    placemarks = list(document.iter(f"{KML_NS}Placemark"))
    assert len(placemarks) == counts["placemarks"]
    kinds = {"status period": "#status_period", "observation": "#observation"}
    for placemark in placemarks:
        (data,) = placemark.iter(f"{KML_NS}SchemaData")
        fields = simple_data(placemark)
        assert data.get("schemaUrl") == kinds[fields["placemark"]]
        assert set(fields) <= schemas[data.get("schemaUrl")[1:]]


def test_kmz_carries_its_icons_and_plain_kml_fetches_none(store, tmp_path):
    import io
    import zipfile

    from PIL import Image

    out = tmp_path / "e.kmz"
    export_inventory(store, out, "kml")
    with zipfile.ZipFile(out) as archive:
        inside = archive.namelist()
        assert inside[0] == "doc.kml"  # the file a KMZ reader opens
        hrefs = {h.text for h in kml_root(out).iter(f"{KML_NS}href")}
        assert hrefs == {"files/pin.png"}
        for href in hrefs:
            assert href in inside and "://" not in href
            with Image.open(io.BytesIO(archive.read(href))) as icon:
                assert (icon.format, icon.mode, icon.size) == ("PNG", "RGBA", (32, 32))
                assert icon.getpixel((16, 16)) == (255, 255, 255, 255)  # white: styles tint it
                assert icon.getpixel((0, 0))[3] == 0  # transparent outside the disc
    styles = list(kml_root(out).iter(f"{KML_NS}Style"))
    assert styles and all(s.find(f"{KML_NS}IconStyle/{KML_NS}Icon") is not None for s in styles)
    plain = tmp_path / "e.kml"
    export_inventory(store, plain, "kml")
    assert list(kml_root(plain).iter(f"{KML_NS}href")) == []  # the viewer's own pin
    assert "http://maps.google" not in plain.read_text(encoding="utf-8")
    colours = {
        s.get("id"): s.find(f"{KML_NS}IconStyle/{KML_NS}color").text
        for s in kml_root(plain).iter(f"{KML_NS}Style")
    }
    assert colours["status-closed"] == "ff2730d7"


def test_gdal_reads_the_kml_and_the_kmz_with_both_drivers(store, tmp_path):
    import os
    import subprocess
    import sys

    import pyogrio

    counts = {}
    for name in ("e.kml", "e.kmz"):
        counts[name] = export_inventory(store, tmp_path / name, "kml")["placemarks"]
    assert counts["e.kml"] == counts["e.kmz"]
    kmz = tmp_path / "e.kmz"
    for source in (tmp_path / "e.kml", f"/vsizip/{kmz}/doc.kml"):  # LIBKML: every field
        layers = [n for n, _ in pyogrio.list_layers(source)]
        frames = [pyogrio.read_dataframe(source, layer=n) for n in layers]
        assert pyogrio.read_info(source, layer=layers[0])["driver"] == "LIBKML"
        assert sum(len(f) for f in frames) == counts["e.kml"]
        observations = [f[f["placemark"] == "observation"] for f in frames]
        assert sum(len(f) for f in observations) == 14
        assert all(f["summary"].notna().all() for f in observations)
    # LIBKML opens the KMZ itself too: every placemark, with its name, time and point.
    layers = [n for n, _ in pyogrio.list_layers(kmz)]
    frames = [pyogrio.read_dataframe(kmz, layer=n) for n in layers]
    assert sum(len(f) for f in frames) == counts["e.kmz"]
    assert all(f["Name"].notna().all() for f in frames)
    with_points = sum(
        1
        for p in kml_root(tmp_path / "e.kml").iter(f"{KML_NS}Placemark")
        if p.find(f"{KML_NS}Point") is not None
    )
    script = (
        "import sys, pyogrio\n"
        "for source in sys.argv[1:]:\n"
        "    layers = pyogrio.list_layers(source)\n"
        "    info = [pyogrio.read_info(source, layer=n) for n, _ in layers]\n"
        "    print(info[0]['driver'], sum(i['features'] for i in info))\n"
    )
    # GDAL's other KML driver, which reads the placemarks that have a point.
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "e.kml"), f"/vsizip/{kmz}/doc.kml"],
        env={**os.environ, "OGR_SKIP": "LIBKML"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["KML", str(with_points)] * 2
    assert 0 < with_points < counts["e.kml"]


def test_a_kmz_reads_back_to_the_same_records(store, empty_store_file, tmp_path):
    out = tmp_path / "e.kmz"
    export_inventory(store, out, "kml")
    target = fresh_copy(empty_store_file, tmp_path)
    report = import_observations(target, out)
    assert report.ignored_fields == []
    assert records_of(target) == records_of(store)
    again = import_observations(store, out, ignore_duplicates=True)
    assert again.ids == [] and again.skipped == again.rows == 14


def test_hostile_text_reaches_kml_as_text(store, empty_store_file, tmp_path):
    import pyogrio

    (record_id,) = add_records(store, [{"date": "2024-05", "summary": HOSTILE, "notes": HOSTILE}])
    out = tmp_path / "e.kml"
    export_inventory(store, out, "kml", crossing_id="quanhe-wonjong")
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "<![CDATA[" not in text
    (placemark,) = [
        p
        for p in kml_root(out).iter(f"{KML_NS}Placemark")
        if simple_data(p).get("summary") == HOSTILE
    ]
    assert simple_data(placemark)["notes"] == HOSTILE
    description = placemark.find(f"{KML_NS}description").text  # HTML, its text escaped
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; ]]&gt; &amp; &lt;![CDATA[" in description
    )
    assert "<script" not in description
    frame = pyogrio.read_dataframe(out, layer="Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason)")
    assert HOSTILE in set(frame["summary"])
    target = fresh_copy(empty_store_file, tmp_path)
    import_observations(target, out)
    assert records_of(target)[record_id].summary == HOSTILE


def test_every_geojson_feature_has_its_record_id(store, shipped_store, tmp_path):
    import zipfile

    out = tmp_path / "e.geojson"
    export_inventory(store, out, "geojson")
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert features and all(f["id"] == f["properties"]["id"] for f in features)
    assert len({f["id"] for f in features}) == len(features)
    assert {f["id"] for f in features} <= set(records_of(store))
    layers = tmp_path / "all.zip"
    export_inventory(shipped_store, layers, "geojson")
    with zipfile.ZipFile(layers) as archive:
        features = json.loads(archive.read(archive.namelist()[0]))["features"]
    with open_store(shipped_store) as opened:
        ids = {
            "crossings": set(opened.crossings()),
            "structures": set(opened.structures()),
            "observations": {o.id for o in opened.observations()},
        }
    for feature in features:
        assert feature["id"] == feature["properties"]["id"]
        assert feature["id"] in ids[feature["featureType"]]


def test_gdal_opens_every_layer_of_the_geojson_zip(
    shipped_store, store, empty_store_file, tmp_path
):
    import zipfile

    import pyogrio

    out = tmp_path / "all.zip"
    counts = export_inventory(shipped_store, out, "geojson")
    source = f"/vsizip/{out}"
    layers = dict(pyogrio.list_layers(source))
    assert layers == {"crossings": "Point", "structures": "Point", "observations": "Point"}
    frames = {name: pyogrio.read_dataframe(source, layer=name) for name in layers}
    assert sum(len(f) for f in frames.values()) == counts["features"]
    assert len(frames["crossings"]) == SHIPPED_MAPPED
    with open_store(shipped_store) as opened:
        assert set(frames["structures"]["id"]) <= set(opened.structures())
        records = {o.id: o for o in opened.observations()}
    observations = frames["observations"].set_index("id")
    assert set(observations.index) <= set(records)
    assert observations["crossing_id"].notna().all() and observations.geometry.notna().all()
    some = next(
        i for i, o in records.items() if o.date.precision == "year" and i in observations.index
    )
    assert str(observations.loc[some, "time_end"])[5:10] == "12-31"  # the days a year may mean
    # The file read back as it is (unzipped) gives the records it holds.
    small = tmp_path / "small.zip"
    export_inventory(store, small, "geojson")
    inner = tmp_path / "layers.geojson"
    with zipfile.ZipFile(small) as archive:
        inner.write_bytes(archive.read(archive.namelist()[0]))
    left_out = {e["id"] for e in json.loads(inner.read_text(encoding="utf-8"))["left_out"]}
    target = fresh_copy(empty_store_file, tmp_path)
    report = import_observations(target, inner)
    assert report.ignored_fields == []
    assert records_of(target) == {i: o for i, o in records_of(store).items() if i not in left_out}


# -- CSV files as spreadsheets save them, in any locale ---------------------------------------

ZH = "丹东至新义州的铁路货运于2022年1月恢复，海关和边防检查站重新开放。"
TW = "丹東至新義州的鐵路貨運於2022年1月恢復，海關和邊防檢查站重新開放。"
KO = "신의주와 단둥을 잇는 철교의 화물열차 운행이 2022년 1월에 다시 시작되었다."
IMPORT_HEADER = ["crossing_id", "date", "kind", "summary", "source_url", "source_type", "notes"]

# How each spreadsheet saves: the bytes' encoding, a text it can carry, and the note the
# import prints on stderr (none for UTF-8: nothing was guessed).
SPREADSHEET_ENCODINGS = {
    "utf-8": ("utf-8", ZH + " " + KO, ""),
    "utf-8 with BOM": ("utf-8-sig", ZH + " " + KO, ""),
    "utf-16le with BOM": ("utf-16", ZH + " " + KO, "read as UTF-16LE (byte-order mark)"),
    "utf-16be with BOM": ("utf-16-be", ZH + " " + KO, "read as UTF-16BE (byte-order mark)"),
    "gb18030": ("gb18030", ZH, "read as GB18030 (detected)"),
    # 똠 is one of CP949's own hangul, outside EUC-KR.
    "cp949": ("cp949", KO + " 똠방각하", "read as CP949 (detected)"),
    # EUC-KR carries hangul and some hanja; CP949 holds it, and is named.
    "euc-kr": ("euc_kr", KO + " 新義州", "read as CP949 (detected)"),
    "big5": ("big5", TW, "read as Big5 (detected)"),
}


def spreadsheet_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> Path:
    """Write rows as a spreadsheet would save them: a header, then one line per row."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([IMPORT_HEADER, *rows])
    data = buffer.getvalue().encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    return path


def one_row(summary: str, notes: str = "") -> list[str]:
    return [
        "quanhe-wonjong", "2025-06", "traffic", summary, "https://example.org/q",
        "ground_observation", notes,
    ]  # fmt: skip


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("saved_as", list(SPREADSHEET_ENCODINGS))
def test_import_reads_every_separator_and_encoding_and_exports_the_same_text(
    empty_store_file, tmp_path, saved_as, delimiter
):
    encoding, text, note = SPREADSHEET_ENCODINGS[saved_as]
    path = spreadsheet_csv(
        tmp_path / "in.csv", [one_row(text, notes=f"({text[:6]})")], encoding, delimiter
    )
    if encoding != "utf-8-sig":  # a byte-order mark is written only where it is meant
        assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    target = fresh_copy(empty_store_file, tmp_path)
    result = CliRunner().invoke(cli, ["import", str(path), "--store", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1
    assert result.stderr == (f"{path}: {note}\n" if note else "")
    (record,) = records_of(target).values()
    assert (record.summary, record.notes) == (text, f"({text[:6]})")
    out = tmp_path / "out.csv"
    export_inventory(target, out, "csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["summary"], row["notes"]) == (text, f"({text[:6]})")


def test_a_file_given_its_encoding_is_read_so_and_the_name_may_vary(empty_store_file, tmp_path):
    path = spreadsheet_csv(tmp_path / "in.csv", [one_row(KO + " 新義州")], "euc_kr", ";")
    target = fresh_copy(empty_store_file, tmp_path)
    result = CliRunner().invoke(
        cli, ["import", str(path), "--encoding", "EUC_KR", "--store", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # given, not guessed: nothing to name
    assert [r.summary for r in records_of(target).values()] == [KO + " 新義州"]


def test_chinese_that_cp949_reads_as_hangul_is_told_from_korean(empty_store_file, tmp_path):
    # Every character here has a GB2312 code that CP949 reads as a hangul syllable; they are
    # not the syllables Korean uses.
    chinese = "圈河口岸货车排队，海关开放"
    assert all("\uac00" <= c <= "\ud7a3" for c in chinese.encode("gb18030").decode("cp949")
               if c != "，")  # fmt: skip
    path = spreadsheet_csv(tmp_path / "cn.csv", [one_row(chinese)], "gb18030")
    target = fresh_copy(empty_store_file, tmp_path)
    result = CliRunner().invoke(cli, ["import", str(path), "--store", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"{path}: read as GB18030 (detected)\n"
    assert [r.summary for r in records_of(target).values()] == [chinese]


def test_a_file_too_short_to_tell_korean_from_chinese_must_be_named(empty_store_file, tmp_path):
    short = "신의주 세관 개방"  # GB18030 reads its bytes as seven Chinese characters
    path = spreadsheet_csv(tmp_path / "short.csv", [one_row(short)], "cp949")
    target = fresh_copy(empty_store_file, tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(path), "--store", str(target)])
    assert result.exit_code == 1
    assert (
        "its 7 letters read as Korean in CP949 and as Chinese in GB18030: too few to tell "
        "which (it takes 8)." in result.output
    )
    assert "Fix: name the file's encoding with --encoding (one of utf-8, " in result.output
    assert records_of(target) == {}
    result = runner.invoke(
        cli, ["import", str(path), "--encoding", "cp949", "--store", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert [r.summary for r in records_of(target).values()] == [short]


def test_a_file_in_no_encoding_read_names_what_was_tried_and_the_option(store, tmp_path):
    from geo.exchange import read_csv_rows

    path = tmp_path / "latin.csv"  # Windows-1252, as some spreadsheets save
    path.write_bytes("crossing_id,date,kind,summary\r\nquanhe-wonjong,2025,traffic,Café\r\n"
                     .encode("cp1252"))  # fmt: skip
    before = store.read_bytes()
    result = CliRunner().invoke(cli, ["import", str(path), "--store", str(store)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: encoding: '{path}' is not UTF-8 (byte 0xe9 at offset 62: invalid continuation "
        "byte), and no encoding tried reads it as a table of known columns and likely text: "
        "CP949, GB18030, Big5. Allowed: UTF-8 (with or without a byte-order mark), UTF-16 "
        "(with one), GB18030, CP949 (EUC-KR) or Big5. Fix: name the file's encoding with "
        "--encoding (one of utf-8, utf-16, utf-16le, utf-16be, gb18030, cp949, euc-kr, big5), "
        'or save it from the spreadsheet as "CSV UTF-8"\n'
    )
    assert store.read_bytes() == before
    # The library names its own argument, never the command's option.
    with pytest.raises(RecordValidationError, match=r"the encoding argument") as caught:
        read_csv_rows(path)
    assert caught.value.field == "encoding" and "--encoding" not in str(caught.value)


def test_an_encoding_given_that_does_not_read_the_file_is_named(store, tmp_path):
    # 上 is C9CF in GB2312, a code CP949 leaves to its users: no CP949 text holds it.
    path = spreadsheet_csv(tmp_path / "zh.csv", [one_row(ZH + " 鸭绿江上")], "gb18030")
    result = CliRunner().invoke(
        cli, ["import", str(path), "--encoding", "cp949", "--store", str(store)]
    )
    assert result.exit_code == 1
    assert f"Error: encoding: 'cp949' does not read {path} (byte 0x" in result.output
    assert "Fix: name the file's encoding with --encoding" in result.output


def test_a_fault_past_the_part_read_first_names_the_row(store, tmp_path):
    from geo.exchange import read_csv_rows

    rows = [one_row(f"Trucks queued, day {n}") for n in range(12_000)]  # over a MiB
    path = spreadsheet_csv(tmp_path / "long.csv", rows, "utf-8")
    with path.open("ab") as handle:
        handle.write(
            b"quanhe-wonjong,2025-06,traffic,Caf\xe9,https://example.org/q,news_report,\r\n"
        )
    assert path.stat().st_size > 1 << 20
    with pytest.raises(
        RecordValidationError, match=rf"encoding: 'utf-8' does not read {path} beyond line [\d,]+"
    ):
        read_csv_rows(path)


def test_encoding_names_and_files_it_is_for(store, tmp_path):
    from geo.exchange import read_rows

    path = spreadsheet_csv(tmp_path / "in.csv", [one_row("x")], "utf-8")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["import", str(path), "--encoding", "latin1", "--store", str(store)]
    )
    assert result.exit_code == 2
    assert "Invalid value for --encoding: 'latin1' is not an encoding crossings reads." in (
        result.output
    )
    geojson = tmp_path / "in.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    result = runner.invoke(
        cli, ["import", str(geojson), "--encoding", "utf-8", "--store", str(store)]
    )
    assert result.exit_code == 2
    assert "--encoding is for a CSV file: GeoJSON is UTF-8, and KML names its own." in (
        result.output
    )
    with pytest.raises(RecordValidationError, match=r"encoding: 'utf-8' is for a CSV file"):
        read_rows(geojson, encoding="utf-8")


def test_a_semicolon_file_may_write_coordinates_with_a_decimal_comma(empty_store_file, tmp_path):
    from geo.exchange import read_csv_format, read_csv_rows

    header = "crossing_id;date;kind;summary;source_url;source_type;lat;lon\r\n"
    row = "quanhe-wonjong;2025-06;traffic;Lkw-Schlange, 2 km;https://example.org/q;news_report;"
    path = tmp_path / "de.csv"
    path.write_text(header + row + "42,5685;130,5230\r\n", encoding="utf-8")
    assert read_csv_format(path).delimiter == ";"
    ((_, fields),) = read_csv_rows(path)
    assert (fields["lat"], fields["lon"], fields["summary"]) == (
        "42.5685", "130.5230", "Lkw-Schlange, 2 km"
    )  # fmt: skip
    # The same cells in a comma file are two cells each: refused, not read as decimals.
    comma = tmp_path / "comma.csv"
    comma.write_text(
        header.replace(";", ",") + row.replace(";", ",").replace(", 2 km", " 2 km") + "42,5685,"
        "130,5230\r\n",
        encoding="utf-8",
    )
    with pytest.raises(BatchValidationError, match=r"quote cells that hold a comma"):
        read_csv_rows(comma)
    target = fresh_copy(empty_store_file, tmp_path)
    import_observations(target, path)
    (record,) = records_of(target).values()
    assert (record.location.lat, record.location.lon) == (42.5685, 130.523)


def test_a_header_without_known_columns_is_read_with_commas_as_before(tmp_path):
    from geo.exchange import read_csv_format

    path = tmp_path / "photos.csv"
    path.write_text("name;place\r\nIMG_1;Dandong\r\n", encoding="utf-8")
    assert read_csv_format(path).delimiter == ","
    path.write_text("name;lat;lon\r\nIMG_1;40.1;124.4\r\n", encoding="utf-8")
    assert read_csv_format(path).delimiter == ";"


def test_bom_starts_csv_on_standard_output_and_reads_back(store):
    runner = CliRunner()
    for command in (["list"], ["show", "quanhe-wonjong"], ["trade"]):
        plain = runner.invoke(cli, [*command, "--format", "csv", "--store", str(store)])
        marked = runner.invoke(cli, [*command, "--format", "csv", "--bom", "--store", str(store)])
        assert plain.exit_code == marked.exit_code == 0, marked.output
        assert not plain.stdout_bytes.startswith(b"\xef\xbb\xbf")
        assert marked.stdout_bytes == b"\xef\xbb\xbf" + plain.stdout_bytes
        rows = list(csv.DictReader(marked.stdout_bytes.decode("utf-8-sig").splitlines()))
        assert rows and list(rows[0]) == next(csv.reader(plain.stdout.splitlines()))


FORMULAS = {
    "summary": '=HYPERLINK("https://evil.example","x")',
    "source_name": "@SUM(A1)",
    "notes": "+1+1",
    "source_detail": "-2+3",
}


def test_every_csv_written_quotes_formula_cells(store, tmp_path):
    import io
    import zipfile

    from geo.record import add_observation

    add_observation(
        store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2026-01-05",
            "kind": "status",
            "status": "closed",
            "source_url": "https://example.org/f",
            "source_type": "news_report",
            **FORMULAS,
        },
    )
    texts = {}
    runner = CliRunner()
    for name, command in {
        "list": ["list", "--format", "csv"],
        "list --bom": ["list", "--format", "csv", "--bom"],
        "show": ["show", "quanhe-wonjong", "--format", "csv"],
        "status": ["status", "--format", "csv"],
        "around": ["around", "quanhe-wonjong", "--format", "csv"],
    }.items():
        result = runner.invoke(cli, [*command, "--store", str(store)])
        assert result.exit_code == 0, (name, result.output)
        texts[name] = result.stdout_bytes.decode("utf-8-sig")
    export_inventory(store, tmp_path / "e.csv", "csv")
    texts["export .csv"] = (tmp_path / "e.csv").read_text(encoding="utf-8-sig")
    export_inventory(store, tmp_path / "e.zip", "csv")
    with zipfile.ZipFile(tmp_path / "e.zip") as archive:
        for member in archive.namelist():
            texts[f"export .zip {member}"] = archive.read(member).decode("utf-8-sig")
    quoted = {"'" + formula for formula in FORMULAS.values()}
    for name, text in texts.items():
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@")], name
        assert not [c for c in cells if c[:1] == "-" and not c[1:2].isdigit()], name
        if name not in ("export .zip crossings.csv", "export .zip structures.csv",
                        "export .zip trade.csv"):  # fmt: skip
            assert quoted & set(cells), name  # the record's cells are there, quoted


def test_a_character_xml_cannot_hold_does_not_break_the_kml(store, tmp_path):
    import pyogrio

    from tests.common import execute

    (record_id,) = add_records(store, [{"date": "2024-05", "summary": "Before the bell"}])
    # Records refuse control characters; a store written by another program may hold one.
    execute(store, f"UPDATE observations SET summary = 'bell' || char(7) WHERE id = '{record_id}'")
    out = tmp_path / "e.kml"
    export_inventory(store, out, "kml", crossing_id="quanhe-wonjong")
    summaries = {simple_data(p).get("summary") for p in kml_root(out).iter(f"{KML_NS}Placemark")}
    assert "bell\ufffd" in summaries
    frame = pyogrio.read_dataframe(out, layer="Quanhe–Wonjong (Tumen River Bridge, Hunchun–Rason)")
    assert "bell\ufffd" in set(frame["summary"])
