"""QGIS styles for the layers: colours, labels, each field's alias, the status periods' time.

Pure text: :func:`layer_qml` returns the QML that the store writes into the
``layer_styles`` table (a GeoPackage's, or a PostGIS database's), which QGIS
reads as each layer's default style. Every alias is the field's description in
:mod:`geo.schema`; the status colours are the map's (:data:`geo.model.STATUS_COLOURS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from geo.model import OBSERVATION_KINDS, STATUS_COLOURS, STATUS_LABELS, STRUCTURE_KINDS
from geo.schema import CROSSINGS, OBSERVATIONS, STATUS_PERIODS, STRUCTURES, TRADE, Layer

__all__ = [
    "DEFAULT_STYLES",
    "KIND_COLOURS",
    "STRUCTURE_COLOURS",
    "STYLE_NAME",
    "Style",
    "crossings_qml",
    "layer_qml",
]

#: The name of the crossings layer's default style (the first release's only style).
STYLE_NAME = "crossings by status"

#: Marker colour of each kind of observation (ColorBrewer Set1: told apart in print as well).
KIND_COLOURS: dict[str, str] = dict(
    zip(
        OBSERVATION_KINDS,
        ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#999999", "#ff7f00", "#a65628"),
        strict=True,
    )
)
#: Marker colour of each kind of structure (ColorBrewer Dark2).
STRUCTURE_COLOURS: dict[str, str] = dict(
    zip(
        STRUCTURE_KINDS,
        ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"),
        strict=True,
    )
)


@dataclass(frozen=True)
class Style:
    """A layer's default style: its name, what it shows, and how.

    ``attribute`` is the field the categories are read from, ``colours`` each
    value's colour (``#rrggbb``) and ``labels`` its legend; ``label`` is a QGIS
    expression the features are labelled with; ``temporal`` names the fields
    that hold each feature's first day and the first day after it.
    """

    layer: Layer
    name: str
    description: str
    attribute: str | None = None
    colours: tuple[tuple[str, str, str], ...] = ()
    label: str | None = None
    temporal: tuple[str, str] | None = None


def _legend(
    colours: dict[str, str], labels: dict[str, str] | None = None
) -> tuple[tuple[str, str, str], ...]:
    """Return each value, its legend (its label, or the value in words) and its colour."""
    return tuple(
        (value, (labels or {}).get(value, value.replace("_", " ")), colour)
        for value, colour in colours.items()
    )


_NAMES = '"name_en" || \'\\n\' || "name_zh"'

#: Each layer's default style, written into every new store and by the migration to schema
#: version 6 (the crossings layer's since version 2).
DEFAULT_STYLES = (
    Style(
        CROSSINGS,
        STYLE_NAME,
        "Crossings coloured by status_now, labelled with names",
        "status_now",
        _legend(STATUS_COLOURS, STATUS_LABELS),
        _NAMES,
    ),
    Style(
        STATUS_PERIODS,
        "status periods by status, in time",
        "Each crossing's status over time, for the temporal controller, coloured by status",
        "status",
        _legend(STATUS_COLOURS, STATUS_LABELS),
        '"name_en"',
        ("start", "end"),
    ),
    Style(
        OBSERVATIONS,
        "observations by kind",
        "Observations coloured by kind of record",
        "kind",
        _legend(KIND_COLOURS),
    ),
    Style(
        STRUCTURES,
        "structures by kind",
        "Structures coloured by kind, labelled with names",
        "kind",
        _legend(STRUCTURE_COLOURS),
        '"name_en"',
    ),
    Style(TRADE, "trade fields", "Trade figures: each field's description as its alias"),
)


def _rgba(colour: str) -> str:
    """Return ``#rrggbb`` as QGIS writes a colour: ``r,g,b,a``."""
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"


def _symbol(number: int, colour: str) -> str:
    return (
        f'<symbol type="marker" name="{number}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{_rgba(colour)}"/>'
        '<Option name="name" type="QString" value="circle"/>'
        '<Option name="size" type="QString" value="3.4"/>'
        '<Option name="outline_color" type="QString" value="35,35,35,255"/>'
        '<Option name="outline_width" type="QString" value="0.3"/>'
        "</Option></layer></symbol>"
    )


def _renderer(style: Style) -> str:
    """Return the categorized renderer of a style (empty for a layer without points)."""
    if style.attribute is None:
        return ""
    categories = "".join(
        f'<category render="true" symbol="{n}" value="{escape(value)}" label="{escape(label)}"/>'
        for n, (value, label, _) in enumerate(style.colours)
    )
    symbols = "".join(_symbol(n, colour) for n, (_, _, colour) in enumerate(style.colours))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr="{escape(style.attribute)}" '
        'symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
    )


def _labeling(style: Style) -> str:
    if style.label is None:
        return ""
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{escape(style.label)}" isExpression="1" fontSize="8" '
        'fontFamily="Noto Sans CJK SC" textColor="30,30,30,255">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        "</text-style>"
        '<placement placement="6" dist="1.5" distUnits="MM"/>'
        "</settings></labeling>"
    )


def _temporal(style: Style) -> str:
    """Return QGIS's temporal settings: each feature from its start field up to its end field.

    Mode 2 is "separate fields for start and end", limit mode 0 "include the
    start, exclude the end", so a period shows from its first day up to the
    day before the next period's; an empty end lasts (QGIS 3.22's names).
    """
    if style.temporal is None:
        return ""
    start, end = (escape(name) for name in style.temporal)
    return (
        f'<temporal enabled="1" mode="2" startField="{start}" endField="{end}" limitMode="0" '
        'accumulate="0" durationUnit="d" durationField="" fixedDuration="0" '
        'startExpression="" endExpression=""><fixedRange><start></start><end></end>'
        "</fixedRange></temporal>"
    )


def layer_qml(style: Style) -> str:
    """Return the QML of a layer's default style.

    A categorized renderer (where the layer has points), labels, each
    field's description in :mod:`geo.schema` as its alias, and, for the
    status periods, the temporal settings QGIS's temporal controller plays.

    Examples
    --------
    >>> 'mode="2" startField="start" endField="end"' in layer_qml(DEFAULT_STYLES[1])
    True
    >>> "<renderer-v2" in layer_qml(DEFAULT_STYLES[-1])
    False
    """
    aliases = "".join(
        f'<alias field="{escape(f.name)}" index="{n}" name="{escape(f.description)}"/>'
        for n, f in enumerate(style.layer.fields, 1)
    )
    categories = "Symbology|Labeling|Fields" + ("|Temporal" if style.temporal else "")
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.22.0" styleCategories="{categories}" '
        f'labelsEnabled="{int(style.label is not None)}">'
        f"{_renderer(style)}{_labeling(style)}{_temporal(style)}"
        f"<aliases>{aliases}</aliases></qgis>"
    )


def crossings_qml() -> str:
    """Return the QML style of the crossings layer.

    A categorized renderer on ``status_now`` (the status when the store was
    last written, see ``status_as_of``), labels with the English and Chinese
    names, and each field's description as its alias.

    Examples
    --------
    >>> 'attr="status_now"' in crossings_qml()
    True
    """
    return layer_qml(DEFAULT_STYLES[0])
