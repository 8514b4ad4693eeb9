"""Shared fixtures: the tiny seed in tests/data/seed and a fresh store per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.inventory import init_inventory

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def _built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "crossings.gpkg"
    init_inventory(path, seed=DATA / "seed")
    return path


@pytest.fixture
def store(_built_store: Path, tmp_path: Path) -> Path:
    """A fresh store built from tests/data/seed, private to the test."""
    path = tmp_path / "crossings.gpkg"
    shutil.copyfile(_built_store, path)
    return path


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store built from the shipped seed in layers/seed (read-only use)."""
    path = tmp_path_factory.mktemp("shipped") / "crossings.gpkg"
    init_inventory(path, seed=ROOT / "layers" / "seed")
    return path


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()
