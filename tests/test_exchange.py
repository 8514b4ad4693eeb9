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
    with zipfile.ZipFile(out) as archive:
        layers = {n: json.loads(archive.read(n)) for n in archive.namelist()}
    assert sorted(layers) == ["crossings.geojson", "observations.geojson", "structures.geojson"]
    crossings = layers["crossings.geojson"]
    assert len(crossings["features"]) == SHIPPED_MAPPED
    assert len(crossings["left_out"]) == SHIPPED_UNMAPPED
    for collection in layers.values():
        assert all(f["geometry"] is not None for f in collection["features"])
    assert counts["features"] == sum(len(c["features"]) for c in layers.values())


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
            r"cannot be read as JSON \(Exceeds the limit",
        ),
        (
            (
                '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
                '{"type": "Point", "coordinates": [NaN, 42]}, "properties": {}}]}'
            ),
            r"row 1: geometry.coordinates: '\[nan, 42\]' is not a point",
        ),
    ],
)
def test_geojson_files_that_cannot_be_read_say_why(store, tmp_path, text, message):
    path = tmp_path / "in.geojson"
    path.write_text(text)
    with pytest.raises((RecordValidationError, BatchValidationError), match=message):
        import_observations(store, path)


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
