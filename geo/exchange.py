"""Exchange formats: read records from CSV and GeoJSON files as rows of text fields.

Each reader returns ``(row_number, fields)`` pairs, with row numbers as a
person sees them in the file (the CSV header is row 1, so data starts at row 2;
GeoJSON features count from 1). Turning fields into records is the job of
:mod:`geo.validate`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import BatchValidationError, RecordValidationError, RowProblem
from geo.model import STATUS_COLOURS
from geo.store import schema

if TYPE_CHECKING:
    from geo.model import Crossing, LonLat, Observation, Structure, TradeFigure
    from geo.status import StatusStep

__all__ = [
    "CROSSING_COLUMNS",
    "EXPORT_SUFFIXES",
    "KML_FIELDS",
    "OBSERVATION_COLUMNS",
    "STRUCTURE_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "TRADE_COLUMNS",
    "WGS84_NAMES",
    "check_geojson_crs",
    "crossing_fields",
    "csv_cell",
    "iter_rows",
    "observation_fields",
    "read_csv_rows",
    "read_rows",
    "trade_fields",
    "unsupported_file",
    "write_csv",
    "write_csv_layers",
    "write_geojson",
    "write_geojson_layers",
    "write_kml",
]

#: File name endings of each export format (the first is the usual one).
EXPORT_SUFFIXES = {
    "geojson": (".geojson", ".json", ".zip"),
    "kml": (".kml", ".kmz"),
    "csv": (".csv", ".zip"),
    "gpkg": (".gpkg",),
}
#: File name endings that ``read_rows`` understands.
SUPPORTED_SUFFIXES = (".csv", ".geojson", ".json", ".kml", ".kmz")

Row = tuple[int, dict[str, object]]
#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: First characters of a cell that ``write_csv`` quotes: a formula's, and the quote itself,
#: so that a text which starts with a quote reads back unchanged.
_QUOTED_STARTS = (*_FORMULA_STARTS, "'")


def _file_error(path: Path, problem: str) -> RecordValidationError:
    return RecordValidationError(
        "file",
        str(path),
        problem,
        "a UTF-8 CSV file with a header row, or a GeoJSON FeatureCollection of points",
        "check the path and the file's format (see `crossings import --help`)",
    )


def read_csv_rows(path: str | Path) -> list[Row]:
    """Read a UTF-8 CSV file (with or without a byte-order mark) into rows.

    Raises
    ------
    RecordValidationError
        If the file cannot be read or has no header.
    """
    return list(_iter_csv_rows(Path(path)))


def _iter_csv_rows(path: Path) -> Iterator[Row]:
    problems: list[RowProblem] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or ()]
            if not any(header):
                raise _file_error(path, "has no header row")
            repeated = sorted({name for name in header if name and header.count(name) > 1})
            if repeated:
                raise _file_error(
                    path, f"names the column {', '.join(map(repr, repeated))} more than once"
                )
            for number, row in enumerate(reader, start=2):
                extra = row.pop(None, None)  # type: ignore[call-overload]
                if extra is not None:
                    problems.append(
                        RowProblem(
                            number,
                            RecordValidationError(
                                "row",
                                f"{len(header) + len(extra)} cells",
                                f"has more cells than the header's {len(header)} columns",
                                "one cell per column of the header",
                                "quote cells that hold a comma, or remove the extra cells",
                            ),
                        )
                    )
                    continue
                yield number, {key.strip(): _spreadsheet_text(value) for key, value in row.items()}
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise _file_error(path, f"cannot be read ({err})") from err
    if problems:
        raise BatchValidationError(str(path), problems)


def _spreadsheet_text(value: str | None) -> str | None:
    """Undo the quote that ``write_csv`` puts before a cell a spreadsheet would run as a formula."""
    if value and value[0] == "'" and value[1:2] in _QUOTED_STARTS:
        return value[1:]
    return value


def _feature_fields(number: int, feature: object) -> dict[str, object]:
    """Return one GeoJSON feature as fields, or raise naming what is wrong with it."""

    def wrong(part: str, value: object, problem: str, allowed: str) -> RecordValidationError:
        return RecordValidationError(
            part, _short(value), problem, allowed, f"fix feature {number} of the file"
        )

    if not isinstance(feature, dict):
        raise wrong("feature", feature, "is not an object", 'a GeoJSON Feature {"type": "Feature"}')
    properties = feature.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise wrong("properties", properties, "is not an object", "an object of field: value")
    fields = dict(properties or {})
    geometry = feature.get("geometry")
    if fields.get("layer") == "crossing":
        return fields  # written by `crossings export`: skipped by the caller
    if "crossing_id" in fields and fields["crossing_id"] is None:
        fields["crossing_id"] = "border"  # the layer's null: a record about the whole border
    if fields.get("has_own_location") is False:
        geometry = None  # placed at its crossing's point for display only
    if geometry is None:
        return fields
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise wrong(
            "geometry",
            kind,
            "is not supported",
            "a Point geometry (or none: the crossing's point is used)",
        )
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) not in (2, 3)
        or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
            for c in coordinates
        )
    ):
        raise wrong(
            "geometry.coordinates",
            coordinates,
            "is not a point",
            "[longitude, latitude] as two finite numbers (RFC 7946)",
        )
    lon, lat = coordinates[0], coordinates[1]  # GeoJSON is lon, lat (RFC 7946)
    for name, value in (("lon", lon), ("lat", lat)):
        given = fields.get(name)
        if given not in (None, "") and not _same_number(given, value):
            raise wrong(
                name,
                given,
                f"contradicts the geometry's {name} {value}",
                "the geometry's coordinates, or no lat/lon property",
            )
    fields["lon"], fields["lat"] = lon, lat
    return fields


def _same_number(given: object, value: float) -> bool:
    try:
        return abs(float(str(given)) - value) < 1e-9
    except ValueError:
        return False


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


#: The names a GeoJSON ``crs`` member may give WGS84 longitude and latitude by (RFC 7946 drops
#: the member: lon/lat on WGS84 is the only one; older files name it).
WGS84_NAMES = frozenset(
    {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326", "CRS84"}
)


def check_geojson_crs(data: object, path: str | Path) -> None:
    """Refuse a GeoJSON file that declares coordinates other than WGS84 longitude and latitude.

    Its numbers could pass for degrees (EPSG:3857's near the equator do), so
    the declaration is never ignored.

    Raises
    ------
    RecordValidationError
        Naming the declared reference system and the fix.
    """
    crs = data.get("crs") if isinstance(data, dict) else None
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name not in WGS84_NAMES:
        raise RecordValidationError(
            "crs",
            _short(name if name is not None else crs),
            f"of {Path(path).name} is not WGS84 longitude and latitude",
            "no crs member (RFC 7946), or one naming EPSG:4326 or CRS84",
            "reproject the file to EPSG:4326, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson",
        )


def _read_geojson_rows(path: Path) -> list[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as err:  # also numbers too long to read
        raise _file_error(path, f"cannot be read as JSON ({_short(err)})") from err
    except RecursionError as err:
        raise _file_error(path, "is nested too deeply to be GeoJSON") from err
    check_geojson_crs(data, path)
    features = None
    if isinstance(data, dict):
        features = [data] if data.get("type") == "Feature" else data.get("features")
    if not isinstance(features, list):
        raise _file_error(path, "is not a GeoJSON FeatureCollection")
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for number, feature in enumerate(features, start=1):
        try:
            fields = _feature_fields(number, feature)
        except RecordValidationError as err:
            problems.append(RowProblem(number, err))
            continue
        if fields.get("layer") != "crossing":
            rows.append((number, fields))
    if problems:
        raise BatchValidationError(str(path), problems)
    return rows


def iter_rows(path: str | Path) -> Iterator[Row]:
    """Yield observation rows of a CSV, GeoJSON or KML file; a CSV is read as it is yielded.

    Raises
    ------
    RecordValidationError
        If the suffix is not supported or the file cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        yield from _iter_csv_rows(path)
    else:
        yield from read_rows(path)


def read_rows(path: str | Path) -> list[Row]:
    """Read observation rows from a CSV or GeoJSON file, chosen by its suffix.

    Raises
    ------
    RecordValidationError
        If the suffix is not supported or the file cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_rows(path)
    if suffix in (".geojson", ".json"):
        return _read_geojson_rows(path)
    if suffix in (".kml", ".kmz"):
        return _read_kml_rows(path)
    raise unsupported_file(path)


def unsupported_file(path: str | Path) -> RecordValidationError:
    """Return the error for a file whose type (by its suffix) an import cannot read."""
    return RecordValidationError(
        "file",
        str(path),
        "has an unsupported type",
        ", ".join(SUPPORTED_SUFFIXES),
        "save the records as CSV or GeoJSON",
    )


def _file_columns(
    layer: schema.Layer, instead: Mapping[str, tuple[str, ...]], *, version: int | None = None
) -> tuple[str, ...]:
    """Return a layer's columns in files: its stored fields, each in ``instead`` replaced."""
    fields = layer.fields if version is None else layer.at(version)
    return tuple(column for f in fields for column in instead.get(f.name, (f.name,)))


def crossing_fields(crossing: Crossing) -> dict[str, object]:
    """Return a crossing as a flat dict of JSON values."""
    location = crossing.location
    return {
        "id": crossing.id,
        "name_en": crossing.name_en,
        "name_zh": crossing.name_zh,
        "name_ko": crossing.name_ko,
        "aliases": list(crossing.aliases),
        "cn_place": crossing.cn_place,
        "cn_province": crossing.cn_province,
        "kp_place": crossing.kp_place,
        "kp_province": crossing.kp_province,
        "river": crossing.river,
        "mode": crossing.mode,
        "mode_detail": crossing.mode_detail,
        "kind": crossing.kind,
        "lon": location.lon if location else None,
        "lat": location.lat if location else None,
        "location_precision_m": crossing.location_precision_m,
        "location_note": crossing.location_note,
        "location_source": crossing.location_source,
        "location_source_url": crossing.location_source_url,
        "alt_locations": crossing.alt_locations,
        "structure": crossing.structure,
        "notes": crossing.notes,
    }


def structure_fields(structure: Structure) -> dict[str, object]:
    """Return a structure as a flat dict of JSON values (the seed's columns)."""
    location = structure.location
    return {
        "id": structure.id,
        "crossing_id": structure.crossing_id,
        "name_en": structure.name_en,
        "name_zh": structure.name_zh,
        "name_ko": structure.name_ko,
        "kind": structure.kind,
        "lon": location.lon if location else None,
        "lat": location.lat if location else None,
        "location_precision_m": structure.location_precision_m,
        "location_source": structure.location_source,
        "location_source_url": structure.location_source_url,
        "notes": structure.notes,
        "length_m": structure.length_m,
    }


def observation_fields(record: Observation) -> dict[str, object]:
    """Return an observation as a flat dict of JSON values (the import format)."""
    own = record.location if record.has_own_location else None
    return {
        "id": record.id,
        "crossing_id": record.crossing_id or "border",
        "date": record.date.text,
        "precision": record.date.precision,
        "date_start": record.date.start.isoformat(),
        "date_end": record.date.end.isoformat(),
        "kind": record.kind,
        "status": record.status,
        "summary": record.summary,
        "source_name": record.source_name,
        "source_url": record.source_url,
        "source_published": record.source_published.text if record.source_published else None,
        "source_type": record.source_type,
        "source_detail": record.source_detail,
        "side": record.side,
        "lat": own.lat if own else None,
        "lon": own.lon if own else None,
        "replaces": record.replaces,
        "notes": record.notes,
        "recorded_at": record.recorded_at.isoformat().replace("+00:00", "Z"),
        "recorded_by": record.recorded_by,
        "applies_to": ",".join(record.applies_to) or None,
        "until": record.until.text if record.until else None,
        "structure_id": record.structure_id,
        "traffic": ",".join(record.traffic) or None,
        "expected": record.expected.text if record.expected else None,
        "lifecycle": record.lifecycle,
        "source_is_mirror": record.source_is_mirror,
        **{f.name: getattr(record, f.name) or None for f in schema.CARRIED_FIELDS},
    }


#: The columns of an observation in CSV files: what ``crossings import`` reads back. They are
#: the stored fields (geo.store.schema), the point as lat/lon instead of has_own_location.
OBSERVATION_COLUMNS = _file_columns(
    schema.OBSERVATIONS,
    {"date_precision": ("precision",), "has_own_location": ("lat", "lon"), "until_end": ()},
)


def write_csv(
    path: str | Path,
    observations: Sequence[Observation],
    crossings: Mapping[str, Crossing] | None = None,
) -> int:
    """Write observations as CSV in UTF-8 with a byte-order mark (spreadsheets then read 신의주).

    Own points are ``lat``/``lon`` columns; with ``crossings``, each row also
    names its crossing (``crossing_name``, which ``crossings import`` skips).
    A text cell that a spreadsheet would run as a formula (it starts with
    ``= + - @``, a tab or a carriage return) is written with a leading ``'``,
    which the spreadsheet shows as text and ``crossings import`` removes; so is
    a cell that starts with ``'``, so that it reads back unchanged. Returns the
    number of rows.
    """
    columns, rows = _observation_table(observations, crossings)
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        return _write_rows(handle, columns, rows)


def _observation_table(
    observations: Sequence[Observation], crossings: Mapping[str, Crossing] | None
) -> tuple[list[str], Iterator[dict[str, object]]]:
    columns = list(OBSERVATION_COLUMNS)
    if crossings is not None:
        columns.insert(columns.index("crossing_id") + 1, "crossing_name")

    def rows() -> Iterator[dict[str, object]]:
        for record in observations:
            fields = observation_fields(record)
            if crossings is not None:
                crossing = crossings.get(record.crossing_id or "")
                fields["crossing_name"] = crossing.name_en if crossing else "(the whole border)"
            yield fields

    return columns, rows()


def _write_rows(handle: Any, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> int:
    """Write rows as CSV with formula cells quoted (see :func:`write_csv`); return the count."""
    writer = csv.DictWriter(handle, columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    written = 0
    for fields in rows:
        writer.writerow({key: csv_cell(value) for key, value in fields.items()})
        written += 1
    return written


def csv_cell(value: object) -> object:
    """Return a value as a CSV cell, safe to open in a spreadsheet.

    A list is joined by "; "; a text a spreadsheet would run as a formula (it
    starts with ``= + - @``, a tab or a carriage return) is quoted with ``'``.
    """
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    if isinstance(value, str) and value[:1] in _QUOTED_STARTS:
        return "'" + value
    return value


def write_csv_layers(
    path: str | Path,
    crossings: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
    trade: Sequence[TradeFigure],
) -> dict[str, int]:
    """Write a zip of one CSV per layer and return the rows of each.

    The layers: crossings (names and coordinates), structures, observations
    (with their crossing's name; ``crossings import`` reads this file back)
    and trade. Each is UTF-8 with a byte-order mark, formula cells quoted.
    """
    by_id = {c.id: c for c in crossings}
    layers = {
        "crossings": (CROSSING_COLUMNS, map(crossing_fields, crossings)),
        "structures": (STRUCTURE_COLUMNS, map(structure_fields, structures)),
        "observations": _observation_table(observations, by_id),
        "trade": (TRADE_COLUMNS, map(trade_fields, trade)),
    }
    counts = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (columns, rows) in layers.items():
            buffer = io.StringIO(newline="")
            counts[name] = _write_rows(buffer, columns, rows)
            archive.writestr(f"{name}.csv", "\ufeff" + buffer.getvalue())
    return counts


def trade_fields(figure: TradeFigure) -> dict[str, object]:
    """Return a trade figure as a flat dict of JSON values."""
    return {
        "period": figure.period,
        "period_kind": figure.period_kind,
        "flow": figure.flow,
        "value_usd": figure.value_usd,
        "qualifier": figure.qualifier,
        "source_name": figure.source_name,
        "source_url": figure.source_url,
        "source_published": figure.source_published.text if figure.source_published else None,
        "notes": figure.notes,
    }


#: The columns of each layer's CSV: the stored fields, with the point as lon/lat, in the order
#: of the functions that give the fields.
CROSSING_COLUMNS = _file_columns(
    schema.CROSSINGS,
    {"location_precision_m": ("lon", "lat", "location_precision_m")},
    version=1,
)
STRUCTURE_COLUMNS = _file_columns(
    schema.STRUCTURES, {"location_precision_m": ("lon", "lat", "location_precision_m")}
)
TRADE_COLUMNS = _file_columns(schema.TRADE, {"period_start": (), "period_end": ()})


def _point(lon: object, lat: object) -> dict[str, object] | None:
    return None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}


def _feature(geometry: dict[str, object], properties: Mapping[str, object]) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": dict(properties)}


def _collection(features: list[dict[str, object]], left_out: list[dict[str, str]]) -> str:
    collection: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if left_out:  # a foreign member (RFC 7946 §6.1): what has no point, and why
        collection["left_out"] = left_out
    return json.dumps(collection, ensure_ascii=False, indent=1)


def _observation_features(
    crossings: Sequence[Crossing], observations: Sequence[Observation]
) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    points = {c.id: c.location for c in crossings}
    features, left_out = [], []
    for record in observations:
        fields = observation_fields(record)
        lon, lat = fields.pop("lon"), fields.pop("lat")
        where = points.get(record.crossing_id or "") if lon is None else None
        geometry = _point(lon, lat) or (_point(where.lon, where.lat) if where else None)  # type: ignore[arg-type]
        if geometry is None:
            why = (
                "a record about the whole border"
                if record.crossing_id is None
                else ("its crossing has no point")
            )
            left_out.append({"id": record.id, "why": f"no point: {why}"})
            continue
        properties = {"layer": "observation", "has_own_location": lon is not None, **fields}
        features.append(_feature(geometry, properties))
    return features, left_out


def write_geojson(
    path: str | Path, crossings: Sequence[Crossing], observations: Sequence[Observation]
) -> tuple[int, int]:
    """Write the observations as one RFC 7946 FeatureCollection (lon, lat; WGS84).

    No feature has a null geometry. A record without a point of its own is
    placed at its crossing's point, with ``has_own_location`` false, so that
    ``crossings import`` keeps it without one. A record with no point at all
    (about the whole border, or of a crossing with no point) is left out and
    listed, with the reason, in the collection's ``left_out`` member; CSV and
    GeoPackage exports keep every record. Returns (features, records left out).
    """
    features, left_out = _observation_features(crossings, observations)
    Path(path).write_text(_collection(features, left_out), encoding="utf-8")
    return len(features), len(left_out)


def write_geojson_layers(
    path: str | Path,
    crossings: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
) -> dict[str, int]:
    """Write a zip of one GeoJSON collection per layer, none with a null geometry.

    ``crossings.geojson`` and ``structures.geojson`` hold those with a point
    (the others are listed in ``left_out``); ``observations.geojson`` is what
    :func:`write_geojson` writes. Returns the features of each.
    """
    counts = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        tables: tuple[tuple[str, list[dict[str, object]]], ...] = (
            ("crossings", [crossing_fields(c) for c in crossings]),
            ("structures", [structure_fields(s) for s in structures]),
        )
        for name, rows in tables:
            features, left_out = [], []
            for fields in rows:
                geometry = _point(fields.pop("lon"), fields.pop("lat"))
                if geometry is None:
                    left_out.append(
                        {"id": str(fields["id"]), "why": "no point in the sources read"}
                    )
                else:
                    features.append(_feature(geometry, {"layer": name[:-1], **fields}))
            archive.writestr(f"{name}.geojson", _collection(features, left_out))
            counts[name] = len(features)
        features, left_out = _observation_features(crossings, observations)
        archive.writestr("observations.geojson", _collection(features, left_out))
        counts["observations"] = len(features)
    return counts


def _kml_description(record: Observation) -> str:

    source = escape(record.source_name)
    if record.source_url:
        source = f'<a href="{escape(record.source_url)}">{source}</a>'
    return f"<p>{escape(record.summary)}</p><p>{escape(record.date.label)} — {source}</p>"


def write_kml(
    path: str | Path,
    crossings: Sequence[Crossing],
    timelines: Mapping[str, Sequence[StatusStep]],
    observations: Sequence[Observation],
) -> int:
    """Write a KML file for Google Earth through GDAL (LIBKML): one folder per crossing.

    Each folder holds a placemark per status period, with a ``TimeSpan`` so that
    Google Earth's time slider shows the status of the day, and a placemark per
    observation, with a ``TimeStamp``, a readable description with its source
    link, and every field in ``ExtendedData`` (which ``crossings import`` reads
    back). Returns the number of placemarks.
    """
    import geopandas as gpd
    import pyogrio

    target = Path(path)
    by_crossing: dict[str | None, list[Observation]] = {}
    for record in observations:
        by_crossing.setdefault(record.crossing_id, []).append(record)
    folders: list[tuple[str, Crossing | None]] = [(c.name_en, c) for c in crossings]
    if None in by_crossing:
        folders.append(("Whole border", None))
    written = 0
    for name, crossing in folders:
        where = crossing.location if crossing else None
        timeline = timelines.get(crossing.id, []) if crossing else []
        records = by_crossing.get(crossing.id if crossing else None, [])
        rows = _status_period_rows(name, where, timeline) + _observation_rows(name, where, records)
        if not rows:
            continue
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
        pyogrio.write_dataframe(
            frame,
            target,
            driver="LIBKML",
            layer=name,
            append=target.exists(),
            layer_options={"FOLDER": "YES"},
        )
        written += len(rows)
    _style_placemarks(target)
    return written


def _status_period_rows(
    name: str, where: LonLat | None, timeline: Sequence[StatusStep]
) -> list[dict[str, object]]:
    """Return a placemark per status period, with the ``TimeSpan`` Google Earth's slider reads."""
    import pandas as pd

    from shapely import Point

    steps: list[StatusStep] = []
    for step in timeline:
        if not steps or steps[-1].status != step.status:  # one period per status
            steps.append(step)
    rows: list[dict[str, object]] = []
    for n, step in enumerate(steps):
        end = steps[n + 1].since if n + 1 < len(steps) else None
        deciding = step.record
        rows.append(
            {
                "name": f"{name}: {(step.status or 'no record').replace('_', ' ')}",
                "status_key": step.status or "",
                "description": _kml_description(deciding) if deciding else "",
                "begin": pd.Timestamp(step.since),
                "end": pd.Timestamp(end) if end else pd.NaT,
                "timestamp": pd.NaT,
                "placemark": "status period",
                "geometry": Point(where) if where else None,
            }
        )
    return rows


def _observation_rows(
    name: str, where: LonLat | None, records: Sequence[Observation]
) -> list[dict[str, object]]:
    """Return a placemark per record, every field in ``ExtendedData`` for the import to read."""
    import pandas as pd

    from shapely import Point

    rows: list[dict[str, object]] = []
    for record in records:
        # Not the id: GDAL reads a placemark's own id into that field; ids are derived anyway.
        fields = {
            k: ("" if v is None else str(v))
            for k, v in observation_fields(record).items()
            if k != "id"
        }
        own = record.location if record.has_own_location else where
        rows.append(
            {
                "name": f"{name}: {record.date.label}, {record.kind}",
                "status_key": "observation",
                "description": _kml_description(record),
                "begin": pd.NaT,
                "end": pd.NaT,
                "timestamp": pd.Timestamp(record.date.start),
                "placemark": "observation",
                **fields,
                "geometry": Point(own) if own else None,
            }
        )
    return rows


def _style_placemarks(path: Path) -> None:
    """Give each placemark a pin in its status colour (the map's), as Google Earth shows them.

    GDAL writes the placemarks; their styles are added to the document here:
    one ``<Style>`` per status, and a ``<styleUrl>`` on each placemark.
    """
    ns = "http://www.opengis.net/kml/2.2"
    ET.register_namespace("", ns)
    tree = ET.parse(path)  # our own output, just written
    document = tree.getroot().find(f"{{{ns}}}Document")
    if document is None:
        return
    colours = {**STATUS_COLOURS, "observation": "#ffffff"}
    for key, colour in colours.items():
        style = ET.Element(f"{{{ns}}}Style", id=f"status-{key or 'none'}")
        icon_style = ET.SubElement(style, f"{{{ns}}}IconStyle")
        red, green, blue = colour[1:3], colour[3:5], colour[5:7]
        ET.SubElement(icon_style, f"{{{ns}}}color").text = f"ff{blue}{green}{red}"  # aabbggrr
        ET.SubElement(icon_style, f"{{{ns}}}scale").text = "0.8" if key == "observation" else "1.1"
        icon = ET.SubElement(icon_style, f"{{{ns}}}Icon")
        ET.SubElement(
            icon, f"{{{ns}}}href"
        ).text = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
        # KML's order: a document's styles come before its schemas and folders.
        document.insert(_first_child(document, ("Schema", "Folder", "Placemark")), style)
    for placemark in document.iter(f"{{{ns}}}Placemark"):
        key = ""
        for data in placemark.iter(f"{{{ns}}}SimpleData"):
            if data.get("name") == "status_key":
                key = data.text or ""
        style_url = ET.Element(f"{{{ns}}}styleUrl")
        style_url.text = f"#status-{key or 'none'}"
        # ...and a placemark's styleUrl after its time, before its data and geometry.
        after = ("ExtendedData", "Point", "LineString", "Polygon", "MultiGeometry")
        placemark.insert(_first_child(placemark, after), style_url)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _first_child(element: Any, names: tuple[str, ...]) -> int:
    """Return the index of the first child with one of these local names (or the end)."""
    for index, child in enumerate(element):
        if child.tag.rsplit("}", 1)[-1] in names:
            return index
    return len(element)


#: KML fields that GDAL adds to every placemark: read as KML, not reported as ignored.
KML_FIELDS = frozenset(
    {
        "id",
        "Name",
        "name",
        "description",
        "timestamp",
        "begin",
        "end",
        "altitudeMode",
        "tessellate",
        "extrude",
        "visibility",
        "drawOrder",
        "icon",
        "snippet",
        "placemark",
        "status_key",
    }
)


def _read_kml_rows(path: Path) -> list[Row]:

    import pyogrio

    rows: list[Row] = []
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
        frames = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on KML styles
            for layer in layers:
                frames.append(pyogrio.read_dataframe(path, layer=layer))
    except Exception as err:
        raise _file_error(path, f"cannot be read as KML ({err})") from err
    number = 0
    problems: list[RowProblem] = []
    for frame in frames:
        columns = set(frame.columns)
        for _, row in frame.iterrows():
            number += 1
            if row.get("placemark") == "status period":
                continue  # written by `crossings export` for Google Earth's time slider
            shape = row.get("geometry")
            if shape is not None and not shape.is_empty and shape.geom_type != "Point":
                problems.append(RowProblem(number, _not_a_point(shape.geom_type)))
                continue
            fields: dict[str, object] = {
                str(key): value
                for key, value in row.items()
                if key not in ("geometry", "id") and isinstance(value, str) and value != ""
            }
            # Placemarks made in Google Earth: map its fields to ours.
            if "summary" not in columns and row.get("Name"):
                fields["summary"] = str(row["Name"])
            if "notes" not in columns and row.get("description"):
                fields["notes"] = str(row["description"])
            stamp = row.get("timestamp")
            if "date" not in columns and stamp is not None and str(stamp) != "NaT":
                fields["date"] = str(stamp)[:10]
            geometry = row.get("geometry")
            if "lat" not in columns and geometry is not None and not geometry.is_empty:
                fields["lon"], fields["lat"] = geometry.x, geometry.y
            rows.append((number, fields))
    if problems:
        raise BatchValidationError(str(path), problems)
    return rows


def _not_a_point(kind: str) -> RecordValidationError:
    """Refuse a placemark of a path or an area: a record is where something was seen."""
    return RecordValidationError(
        "geometry",
        kind,
        "is not a point (Google Earth writes a path or an area so)",
        "a Point placemark: the place where something was seen",
        "put a pin (a point placemark) where it was seen, or give lat and lon; where it stands "
        "for a road or an area, describe it in the summary",
    )
