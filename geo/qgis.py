"""A QGIS style for the crossings layer: coloured by status, labelled with names.

Pure text: :func:`crossings_qml` returns the QML that the store writes into the
GeoPackage's ``layer_styles`` table, which QGIS reads as the layer's default style.
"""

from __future__ import annotations

from html import escape

from geo.model import STATUS_COLOURS, STATUS_LABELS
from geo.schema import CROSSINGS

__all__ = ["STYLE_NAME", "crossings_qml"]

STYLE_NAME = "crossings by status"


def _categories() -> list[tuple[str, str, str]]:
    """Return the map's statuses, labels and colours (geo.render), colours as QGIS "r,g,b,a"."""

    def rgba(colour: str) -> str:
        return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"

    return [(key, STATUS_LABELS[key], rgba(colour)) for key, colour in STATUS_COLOURS.items()]


def _symbol(number: int, colour: str) -> str:
    return (
        f'<symbol type="marker" name="{number}" alpha="1" clip_to_extent="1" force_rhr="0">'
        '<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{colour}"/>'
        '<Option name="name" type="QString" value="circle"/>'
        '<Option name="size" type="QString" value="3.4"/>'
        '<Option name="outline_color" type="QString" value="35,35,35,255"/>'
        '<Option name="outline_width" type="QString" value="0.3"/>'
        "</Option></layer></symbol>"
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
    categories = "".join(
        f'<category render="true" symbol="{n}" value="{escape(value)}" label="{escape(label)}"/>'
        for n, (value, label, _) in enumerate(_categories())
    )
    symbols = "".join(_symbol(n, colour) for n, (_, _, colour) in enumerate(_categories()))
    label = '"name_en" || \'\\n\' || "name_zh"'
    # Each field's alias is its description in the one schema (geo.store.schema).
    aliases = "".join(
        f'<alias field="{escape(f.name)}" index="{n}" name="{escape(f.description)}"/>'
        for n, f in enumerate(CROSSINGS.fields, 1)
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.22.0" styleCategories="Symbology|Labeling" labelsEnabled="1">'
        '<renderer-v2 type="categorizedSymbol" attr="status_now" symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{escape(label)}" isExpression="1" fontSize="8" '
        'fontFamily="Noto Sans CJK SC" textColor="30,30,30,255">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        "</text-style>"
        '<placement placement="6" dist="1.5" distUnits="MM"/>'
        f"</settings></labeling><aliases>{aliases}</aliases></qgis>"
    )
