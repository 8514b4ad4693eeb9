"""Open a store in QGIS (PyQGIS, headless) and print what QGIS sees, as JSON.

Run with the Python that has Debian's python3-qgis: /usr/bin/python3 tests/qgis_check.py STORE
STORE is a GeoPackage path, or a postgresql:// URL (read with QGIS's PostgreSQL provider).
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from urllib.parse import urlsplit

from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer

application = QgsApplication([], False)
application.initQgis()
store = sys.argv[1]


def open_layer(name: str) -> QgsVectorLayer:
    if not store.startswith("postgresql://"):
        return QgsVectorLayer(f"{store}|layername={name}", name, "ogr")
    url = urlsplit(store)
    uri = QgsDataSourceUri()
    uri.setConnection(
        url.hostname, str(url.port), url.path.lstrip("/"), url.username, url.password or ""
    )
    uri.setDataSource("public", name, None if name == "trade" else "geom", "", "fid")
    return QgsVectorLayer(uri.uri(False), name, "postgres")


seen = {}
for name in ("crossings", "observations", "structures", "trade"):
    layer = open_layer(name)
    seen[name] = {"valid": layer.isValid(), "count": layer.featureCount()}
crossings = open_layer("crossings")
renderer = crossings.renderer()
seen["renderer"] = renderer.type()
seen["attribute"] = renderer.classAttribute() if hasattr(renderer, "classAttribute") else None
seen["categories"] = (
    [c.value() for c in renderer.categories()] if hasattr(renderer, "categories") else []
)
seen["labels"] = crossings.labelsEnabled()
seen["aliases"] = {f.name(): crossings.attributeAlias(i) for i, f in enumerate(crossings.fields())}
seen["status"] = {f["id"]: f["status_now"] for f in crossings.getFeatures()}
print(json.dumps(seen), flush=True)
# Leave without QgsApplication.exitQgis(): with layers still referenced it can crash on the
# way out, after the answer was printed.
os._exit(0)
