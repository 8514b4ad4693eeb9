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

from geo.exchange import crossing_fields, observation_fields

if TYPE_CHECKING:
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
