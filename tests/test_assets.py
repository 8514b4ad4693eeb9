"""The map's pinned scripts: shipped with their hashes; refreshing them needs npm, and says so."""

from __future__ import annotations

import hashlib

import pytest

import geo.assets
from geo.assets import ASSETS, VENDOR_DIR, local_path, main, npm_package
from geo.errors import GeoError


def test_every_asset_ships_with_its_recorded_hash_and_licence():
    recorded = dict(
        reversed(line.split(maxsplit=1))
        for line in (VENDOR_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    )
    for asset in ASSETS.values():
        path = local_path(asset.url)
        assert path is not None, asset.url
        name = path.relative_to(VENDOR_DIR).as_posix()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[name]
    for package, version in {(a.package, a.version) for a in ASSETS.values()}:
        licences = [p for p in (VENDOR_DIR / f"{package}@{version}").iterdir() if "LICEN" in p.name]
        assert licences, package


def test_refreshing_without_npm_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(GeoError, match=r"npm is needed to fetch leaflet@1\.9\.4, and it is not"):
        npm_package("leaflet", "1.9.4", cache_dir=tmp_path)

    def no_npm(package: str, version: str) -> None:
        raise GeoError(f"npm is needed to fetch {package}@{version}, and it is not installed")

    monkeypatch.setattr(geo.assets, "npm_package", no_npm)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: npm is needed")
