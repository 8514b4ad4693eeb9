"""Open a store in QGIS (PyQGIS, headless) and print what QGIS sees, as JSON.

Run with the Python that has Debian's python3-qgis:
/usr/bin/python3 tests/qgis_check.py STORE [DAY ...]
STORE is a GeoPackage path, or a postgresql:// URL (read with QGIS's PostgreSQL provider).
For each DAY (YYYY-MM-DD), the status periods QGIS's temporal controller shows on that day:
the layer's own temporal filter for the frame from the day's midnight to the next.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from urllib.parse import urlsplit

from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsDateTimeRange,
    QgsFeatureRequest,
    QgsVectorLayer,
    QgsVectorLayerTemporalContext,
)
from qgis.PyQt.QtCore import QDate, QDateTime, QTime

application = QgsApplication([], False)
application.initQgis()
store, days = sys.argv[1], sys.argv[2:]
POINTS = ("crossings", "observations", "structures", "status_periods")


def open_layer(name: str) -> QgsVectorLayer:
    if not store.startswith("postgresql://"):
        return QgsVectorLayer(f"{store}|layername={name}", name, "ogr")
    url = urlsplit(store)
    uri = QgsDataSourceUri()
    uri.setConnection(
        url.hostname, str(url.port), url.path.lstrip("/"), url.username, url.password or ""
    )
    uri.setDataSource("public", name, "geom" if name in POINTS else None, "", "fid")
    return QgsVectorLayer(uri.uri(False), name, "postgres")


def value_maps(layer: QgsVectorLayer) -> dict:
    """The fields QGIS edits with a list of values (a GeoPackage's vocabularies), and the values."""
    found = {}
    for index, field in enumerate(layer.fields()):
        setup = layer.editorWidgetSetup(index)
        if setup.type() == "ValueMap":
            found[field.name()] = sorted(v for item in setup.config()["map"] for v in item.values())
    return found


def style(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    return {
        "value_maps": value_maps(layer),
        "renderer": renderer.type() if renderer else None,
        "attribute": renderer.classAttribute() if hasattr(renderer, "classAttribute") else None,
        "categories": (
            [c.value() for c in renderer.categories()] if hasattr(renderer, "categories") else []
        ),
        "colours": (
            {c.value(): c.symbol().color().name() for c in renderer.categories()}
            if hasattr(renderer, "categories")
            else {}
        ),
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())},
    }


def shown_on(layer: QgsVectorLayer, day: str) -> dict:
    """The periods the temporal controller shows in a frame of one day, by crossing."""
    first = QDate.fromString(day, "yyyy-MM-dd")
    frame = QgsDateTimeRange(
        QDateTime(first, QTime(0, 0)), QDateTime(first.addDays(1), QTime(0, 0)), True, False
    )
    context = QgsVectorLayerTemporalContext()
    context.setLayer(layer)
    where = layer.temporalProperties().createFilterString(context, frame)
    shown = {}
    for feature in layer.getFeatures(QgsFeatureRequest().setFilterExpression(where)):
        shown.setdefault(feature["crossing_id"], []).append(feature["status"])
    return {"filter": where, "statuses": shown}


seen = {}
for name in (*POINTS, "trade"):
    layer = open_layer(name)
    seen[name] = {"valid": layer.isValid(), "count": layer.featureCount()}
crossings = open_layer("crossings")
seen.update(style(crossings))
seen["labels"] = crossings.labelsEnabled()
seen["status"] = {f["id"]: f["status_now"] for f in crossings.getFeatures()}
seen["styles"] = {name: style(open_layer(name)) for name in (*POINTS[1:], "trade")}


def temporal(layer: QgsVectorLayer) -> dict:
    properties = layer.temporalProperties()
    return {
        "active": properties.isActive(),
        "mode": int(properties.mode()),
        "start": properties.startField(),
        "end": properties.endField(),
        "limit": int(properties.limitMode()),
        "unit": int(properties.durationUnits()),
    }


periods = open_layer("status_periods")
# QGIS reads the default style as it opens a layer, then turns the layer's temporal control
# off unless its data provider keeps time itself; "Restore default style" (what follows)
# applies the whole of the stored style, switch included.
seen["temporal_as_opened"] = temporal(periods)
seen["default_style"] = list(periods.loadDefaultStyle())
seen["temporal"] = temporal(periods)
seen["types"] = {f.name(): f.typeName() for f in periods.fields()}
seen["days"] = {day: shown_on(periods, day) for day in days}
print(json.dumps(seen), flush=True)
# Leave without QgsApplication.exitQgis(): with layers still referenced it can crash on the
# way out, after the answer was printed.
os._exit(0)
