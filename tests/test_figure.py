"""`crossings figure`: static maps to publish, written offline as PNG, SVG and PDF."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.browse import list_crossings
from geo.cli import cli


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def figure(store: Path, out: Path, *extra: str):
    return CliRunner().invoke(
        cli, ["figure", "--store", str(store), "--out", str(out), *extra], catch_exceptions=False
    )


def test_png_svg_and_pdf_offline(shipped_store: Path, tmp_path: Path, no_network):
    import matplotlib.image

    mapped = [s.crossing for s in list_crossings(shipped_store) if s.crossing.location]
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"border.{suffix}"
        result = figure(shipped_store, out, "--as-of", "2021-06-01")
        assert result.exit_code == 0, result.output
        assert result.output == f"{out}\n"
        assert out.stat().st_size > 20_000
    pixels = matplotlib.image.imread(tmp_path / "border.png")
    assert pixels.shape[0] > 800 and pixels.shape[1] > 1000
    assert pixels[..., :3].std() > 0.05  # not blank
    svg = (tmp_path / "border.svg").read_text(encoding="utf-8")
    for crossing in mapped:  # text stays text: each mapped crossing is named
        assert f">{crossing.name_en}<" in svg.replace("&#39;", "'"), crossing.name_en
    assert "status on 2021-06-01" in svg and "Natural Earth" in svg and "100 km" in svg
    assert (tmp_path / "border.pdf").read_bytes().startswith(b"%PDF")


def test_labels_in_chinese_and_one_crossing(shipped_store: Path, tmp_path: Path):
    out = tmp_path / "quanhe.svg"
    assert figure(shipped_store, out, "--crossing", "quanhe-wonjong", "--lang", "zh").exit_code == 0
    svg = out.read_text(encoding="utf-8")
    assert ">圈河口岸<" in svg and "Sino-Korean" not in svg
    assert "Quanhe–Wonjong" in svg  # the title


def test_a_figure_file_must_be_png_svg_or_pdf_and_is_not_replaced_silently(
    shipped_store: Path, tmp_path: Path
):
    result = CliRunner().invoke(
        cli, ["figure", "--store", str(shipped_store), "--out", str(tmp_path / "f.jpg")]
    )
    assert result.exit_code == 1 and "does not end in .png, .svg or .pdf" in result.output
    out = tmp_path / "f.png"
    out.write_bytes(b"my figure")
    result = CliRunner().invoke(cli, ["figure", "--store", str(shipped_store), "--out", str(out)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert out.read_bytes() == b"my figure"


def test_a_lifecycle_the_map_has_no_colour_for_is_drawn_not_refused(shipped_store: Path):
    from dataclasses import replace
    from datetime import date

    from geo.figure import status_figure
    from geo.status import StatusAnswer

    statuses = list_crossings(shipped_store)
    destroyed = StatusAnswer(date(2026, 1, 1), "destroyed", None, is_lifecycle=True)
    statuses[0] = replace(statuses[0], status=destroyed)
    figure = status_figure(statuses, day=date(2026, 1, 1))
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "destroyed" in labels
