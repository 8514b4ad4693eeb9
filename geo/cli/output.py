"""Formatting of results for the terminal: readable tables, JSON, CSV, GeoJSON.

stdout carries data only; an empty result is an empty list.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from geo.model import Crossing, Observation
    from geo.query import StatusAnswer

__all__ = [
    "crossing_fields",
    "echo_records",
    "observation_fields",
    "rounded",
    "status_fields",
    "table",
]

Row = Mapping[str, object]


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK and hangul take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: object, limit: int) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if _width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def table(rows: Sequence[Row], columns: Sequence[str], *, limit: int = 60) -> str:
    """Return rows as an aligned text table with a header line."""
    cells = [[_cell(row.get(column), limit) for column in columns] for row in rows]
    widths = [
        max([_width(column)] + [_width(line[i]) for line in cells])
        for i, column in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(columns)), rule, *(line(c) for c in cells)])


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
    }


def status_fields(answer: StatusAnswer) -> dict[str, object]:
    """Return a status answer as flat fields: the status, its date and its source."""
    record = answer.record
    return {
        "as_of": answer.as_of.isoformat(),
        "status": answer.status,
        "status_date": record.date.text if record else None,
        "status_source": record.source_name if record else None,
        "status_source_url": record.source_url if record else None,
        "status_record": record.id if record else None,
        "status_border_wide": bool(record and record.crossing_id is None),
        "status_conflicts": [o.id for o in answer.conflicts],
    }


def rounded(value: float | None, digits: int = 1) -> float | None:
    """Round a measurement for display; None stays None."""
    return None if value is None else round(value, digits)


def _feature(fields: Mapping[str, object]) -> dict[str, object]:
    lon, lat = fields.get("lon"), fields.get("lat")
    properties = {k: v for k, v in fields.items() if k not in ("lon", "lat")}
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def echo_records(
    rows: Sequence[Mapping[str, object]],
    output_format: str,
    *,
    columns: Sequence[str],
) -> None:
    """Print rows in the chosen format: ``table``, ``json``, ``csv`` or ``geojson``."""
    if output_format == "json":
        click.echo(json.dumps(list(rows), ensure_ascii=False, indent=2))
    elif output_format == "geojson":
        collection = {"type": "FeatureCollection", "features": [_feature(r) for r in rows]}
        click.echo(json.dumps(collection, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        buffer = io.StringIO()
        fields = list(rows[0]) if rows else list(columns)
        writer = csv.DictWriter(buffer, fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
            )
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(table(rows, columns))
