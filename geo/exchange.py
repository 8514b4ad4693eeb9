"""Exchange formats: read records from CSV and GeoJSON files as rows of text fields.

Each reader returns ``(row_number, fields)`` pairs, with row numbers as a
person sees them in the file (the CSV header is row 1, so data starts at row 2;
GeoJSON features count from 1). Turning fields into records is the job of
:mod:`geo.validate`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from geo.errors import RecordValidationError

__all__ = ["SUPPORTED_SUFFIXES", "read_csv_rows", "read_rows"]

#: File name endings that ``read_rows`` understands.
SUPPORTED_SUFFIXES = (".csv", ".geojson", ".json")

Row = tuple[int, dict[str, object]]


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
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise _file_error(path, "has no header row")
            return [
                (number, {key.strip(): value for key, value in row.items() if key})
                for number, row in enumerate(reader, start=2)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise _file_error(path, f"cannot be read ({err})") from err


def _read_geojson_rows(path: Path) -> list[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _file_error(path, f"cannot be read as JSON ({err})") from err
    features = None
    if isinstance(data, dict):
        features = [data] if data.get("type") == "Feature" else data.get("features")
    if not isinstance(features, list):
        raise _file_error(path, "is not a GeoJSON FeatureCollection")
    rows: list[Row] = []
    for number, feature in enumerate(features, start=1):
        fields = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry")
        if geometry:
            if geometry.get("type") != "Point":
                raise RecordValidationError(
                    f"feature {number} geometry",
                    geometry.get("type"),
                    "is not supported",
                    "Point geometries (or none: the crossing's point is used)",
                    "give each observation a point, or no geometry",
                )
            coordinates = geometry.get("coordinates") or []
            if len(coordinates) >= 2:
                # GeoJSON is lon, lat (RFC 7946).
                fields["lon"], fields["lat"] = coordinates[0], coordinates[1]
        rows.append((number, fields))
    return rows


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
    raise RecordValidationError(
        "file",
        str(path),
        "has an unsupported type",
        ", ".join(SUPPORTED_SUFFIXES),
        "save the records as CSV or GeoJSON",
    )
