"""`crossings figure`: static maps to publish, written offline as PNG, SVG and PDF."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.basemap import basemap
from geo.browse import list_crossings
from geo.cli import cli


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test drew (pyplot keeps each one open until then)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


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
    texts = " ".join(svg_texts(tmp_path / "border.svg"))  # a wrapped line's pieces, joined
    assert "status on 2021-06-01" in texts and "100 km" in texts
    assert basemap()["attribution"] in texts  # the base layer's credit, as it gives it
    assert (tmp_path / "border.pdf").read_bytes().startswith(b"%PDF")


def test_labels_in_chinese_and_one_crossing(shipped_store: Path, tmp_path: Path):
    out = tmp_path / "quanhe.svg"
    assert figure(shipped_store, out, "--crossing", "quanhe-wonjong", "--lang", "zh").exit_code == 0
    svg = out.read_text(encoding="utf-8")
    assert ">圈河口岸<" in svg and "Sino-Korean" not in svg
    assert ">圈河口岸：" in svg and " 的状态<" in svg  # the title, in Chinese too
    assert "Quanhe–Wonjong" not in svg and "status on" not in svg


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


# Figures for print: labels apart, status by shape, every word in the language asked for.

DAY = "2021-06-01"


def drawn(figure):
    """Draw a figure; return its axes and each text with its box (its background's, if any)."""
    figure.canvas.draw()
    axes = figure.axes[0]
    return axes, [(t, (t.get_bbox_patch() or t).get_window_extent()) for t in axes.texts]


def overlapping(boxes):
    """Return the pairs of named boxes that share some area."""
    pairs = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if width > 0 and height > 0:
                pairs.append((a, b))
    return pairs


def statuses_on(store: Path, day: str = DAY):
    from datetime import date

    return list_crossings(store, as_of=date.fromisoformat(day))


def labels(axes, kind: str) -> list[str]:
    return [t.get_text() for t in axes.texts if t.get_label() == kind]


@pytest.mark.parametrize("lang", ["en", "zh", "ko"])
@pytest.mark.parametrize("crossing_id", [None, "tumen-namyang-road"])
def test_no_label_overlaps_another_or_the_legend(shipped_store: Path, lang, crossing_id):
    from datetime import date

    from geo.figure import status_figure

    statuses = statuses_on(shipped_store)
    figure = status_figure(statuses, day=date(2021, 6, 1), lang=lang, crossing_id=crossing_id)
    axes, boxes = drawn(figure)
    named = {getattr(s.crossing, f"name_{lang}") for s in statuses if s.crossing.location}
    if crossing_id is None:
        assert set(labels(axes, "crossing")) == named  # each mapped crossing is named
    else:
        (one,) = [s.crossing for s in statuses if s.crossing.id == crossing_id]
        assert labels(axes, "crossing") == [getattr(one, f"name_{lang}")]
    assert len(labels(axes, "town")) >= 2 and len(labels(axes, "river")) == 1 + (
        crossing_id is None
    )
    named_boxes = [(t.get_text(), box) for t, box in boxes]
    assert overlapping(named_boxes) == []
    legend = axes.get_legend().get_window_extent()
    assert overlapping([*named_boxes, ("legend", legend)]) == []
    frame = axes.get_window_extent()
    for text, box in boxes:
        if text.get_label() in {"crossing", "town", "river", "country"}:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
    # The check can fail: the old figure set both Tumen labels on one spot.
    assert overlapping([named_boxes[0], named_boxes[0]]) != []


def test_the_same_figure_is_the_same_file(shipped_store: Path, tmp_path: Path):
    for suffix in ("svg", "pdf", "png"):  # labels placed alike, no dates, no random ids
        first, second = tmp_path / f"first.{suffix}", tmp_path / f"second.{suffix}"
        assert figure(shipped_store, first, "--as-of", DAY, "--lang", "zh").exit_code == 0
        assert figure(shipped_store, second, "--as-of", DAY, "--lang", "zh").exit_code == 0
        assert first.read_bytes() == second.read_bytes(), suffix


def test_a_label_moved_off_its_crossing_has_a_leader_line(shipped_store: Path):
    from datetime import date

    from geo.figure import status_figure

    axes = status_figure(statuses_on(shipped_store), day=date(2021, 6, 1)).axes[0]
    crossings = [t for t in axes.texts if t.get_label() == "crossing"]
    led = [t for t in crossings if t.arrow_patch is not None]
    assert led  # the Dandong bridges are 9 km apart: one of them is named further off
    for text in crossings:
        dx, dy = text.xyann
        assert (text.arrow_patch is not None) == ((dx**2 + dy**2) ** 0.5 >= 16), text.get_text()


def test_each_status_has_its_own_mark_on_the_map_and_in_the_legend(shipped_store: Path):
    from dataclasses import replace
    from datetime import date

    from geo.figure import WORDS, status_figure
    from geo.model import STATUS_COLOURS

    keys = [k or None for k in STATUS_COLOURS]  # every status and lifecycle, and none
    statuses = [s for s in statuses_on(shipped_store) if s.crossing.location]
    statuses = [
        replace(s, status=replace(s.status, status=keys[i % len(keys)], is_lifecycle=True))
        for i, s in enumerate(statuses)
    ]
    axes = status_figure(statuses, day=date(2021, 6, 1)).axes[0]
    marks: dict[str | None, set[str]] = {}
    for status in statuses:
        (line,) = [a for a in axes.lines if a.get_gid() == f"crossing-{status.crossing.id}"]
        marks.setdefault(status.status.status, set()).add(line.get_marker())
    assert len(marks) == len(keys)
    assert all(len(shapes) == 1 for shapes in marks.values())  # a status: one shape
    shapes = {key: next(iter(shape)) for key, shape in marks.items()}
    assert len(set(shapes.values())) == len(shapes)  # two statuses: two shapes
    legend = axes.get_legend()
    by_label = {
        t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    for key, shape in shapes.items():
        assert by_label[WORDS["en"][f"status:{key or ''}"]].get_marker() == shape


def test_crossings_without_a_point_are_named_under_the_map(store: Path):
    from datetime import date

    from geo.figure import status_figure

    statuses = list_crossings(store)
    unmapped = [s.crossing for s in statuses if s.crossing.location is None]
    assert [c.id for c in unmapped] == ["jian-manpo-road"]  # the test seed has one
    for lang in ("en", "zh", "ko"):
        drawing = status_figure(statuses, day=date.today(), lang=lang)
        (note,) = [t.get_text() for t in drawing.axes[0].texts if t.get_gid() == "notes"]
        assert getattr(unmapped[0], f"name_{lang}") in note
        for status in statuses:
            if status.crossing.location is not None:
                assert getattr(status.crossing, f"name_{lang}") not in note
    mapped = [s for s in statuses if s.crossing.location is not None]
    drawing = status_figure(mapped, day=date.today())
    assert [t for t in drawing.axes[0].texts if t.get_gid() == "notes"] == []  # none: no note


def svg_texts(path: Path) -> list[str]:
    import html
    import re

    svg = path.read_text(encoding="utf-8")
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def latin_words(text: str) -> set[str]:
    import re

    return {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}


def test_every_word_of_a_chinese_figure_is_chinese(shipped_store: Path, tmp_path: Path):
    import re

    from geo.figure import WORDS

    english = set().union(*map(latin_words, WORDS["en"].values()))
    english -= set().union(*map(latin_words, WORDS["zh"].values()))
    assert {"status", "china", "dprk", "closed", "road", "rail", "km", "drawn"} <= english
    for lang in ("zh", "en"):
        out = tmp_path / f"border-{lang}.svg"
        assert figure(shipped_store, out, "--as-of", DAY, "--lang", lang).exit_code == 0
        texts = svg_texts(out)
        # The command the sources line quotes is typed as it is, in any language.
        words = set().union(*(latin_words(re.sub(r"`[^`]*`", " ", t)) for t in texts))
        if lang == "zh":
            assert words & english == set()
            wanted = ["中国", "朝鲜", "鸭绿江", "图们江", "北", "100 公里", "中朝边界", "关闭"]
            assert [w for w in wanted if w not in texts] == []
            assert "中朝边境口岸：2021-06-01 的状态" in texts
        else:  # the check can fail: the English figure has the table's words
            assert {"china", "dprk", "yalu", "closed", "status", "km"} <= words & english


def test_rivers_and_countries_are_named_along_the_boundary(shipped_store: Path):
    from datetime import date

    from shapely import box, transform

    from geo.figure import WORDS, _scene, status_figure

    statuses = statuses_on(shipped_store)
    border = _scene(statuses, "en", None).border
    for lang in ("en", "zh", "ko"):
        words = WORDS[lang]
        axes = status_figure(statuses, day=date(2021, 6, 1), lang=lang).axes[0]
        assert sorted(labels(axes, "country")) == sorted([words["china"], words["dprk"]])
        assert sorted(labels(axes, "river")) == sorted([words["yalu"], words["tumen"]])
        axes.figure.canvas.draw()
        line = transform(border, axes.transData.transform)  # in display pixels
        for text in axes.texts:
            if text.get_label() == "river":  # beside the line (or across it): a line off at most
                extent = text.get_window_extent()
                away = line.distance(box(extent.x0, extent.y0, extent.x1, extent.y1))
                assert away < 2 * text.get_fontsize() * axes.figure.dpi / 72, text.get_text()
        china, dprk = (t.get_position() for t in axes.texts if t.get_label() == "country")
        assert china[1] > dprk[1]  # China lies north-west of the boundary, the DPRK south-east


def test_towns_are_named_only_by_the_store(shipped_store: Path):
    from datetime import date

    from geo.figure import status_figure

    statuses = statuses_on(shipped_store)
    aliases = {a for s in statuses for a in s.crossing.aliases}
    expected = {"en": ("Dandong", "Sinuiju"), "zh": ("丹东", "新义州"), "ko": ("단둥", "신의주")}
    for lang, towns in expected.items():
        one = status_figure(
            statuses, day=date(2021, 6, 1), lang=lang, crossing_id="friendship-bridge"
        )
        assert sorted(labels(one.axes[0], "town")) == sorted(towns)
        whole = status_figure(statuses, day=date(2021, 6, 1), lang=lang).axes[0]
        towns_named = labels(whole, "town")
        assert len(towns_named) >= 6 and set(towns_named) <= aliases  # each an alias in the store


@pytest.mark.parametrize(
    ("crossing_id", "side", "lang", "town"),
    [
        ("friendship-bridge", "cn", "zh", "丹东"),
        ("friendship-bridge", "kp", "ko", "신의주"),
        ("new-yalu-river-bridge", "kp", "zh", "新义州"),  # "southern Sinuiju (link road …)"
        ("quanhe-wonjong", "kp", "en", "Wonjong-ri"),  # the longest name the place starts with
        ("quanhe-wonjong", "kp", "ko", "원정"),
        ("quanhe-wonjong", "cn", "zh", None),  # no 圈河 alone among the aliases: none made up
        ("jian-manpo-rail", "cn", "ko", "지안"),  # Ji'an; Jian; 集安; 지안
        ("hekou-chongsu-rail", "kp", "en", "Ch'ŏngsu"),
        ("taipingwan", "kp", "en", None),  # "not verified"
        ("linjiang-chunggang", "kp", "zh", None),  # Chunggang County; Junggang; 中江: not sure
    ],
)
def test_a_town_is_the_alias_its_place_names(shipped_store, crossing_id, side, lang, town):
    from geo.figure import _town

    (crossing,) = [
        s.crossing for s in list_crossings(shipped_store) if s.crossing.id == crossing_id
    ]
    assert _town(crossing, getattr(crossing, f"{side}_place"), lang) == town


def test_each_language_has_every_word():
    import re

    from geo.figure import WORDS
    from geo.model import STATUS_LABELS

    assert {f"status:{k}" for k in STATUS_LABELS} <= set(WORDS["en"])
    for lang, words in WORDS.items():
        assert set(words) == set(WORDS["en"]), lang
        for key, text in words.items():  # the same blanks to fill
            assert set(re.findall(r"{(\w+)}", text)) == set(
                re.findall(r"{(\w+)}", WORDS["en"][key])
            )


def test_marks_side_by_side_are_moved_apart_not_drawn_over_each_other(shipped_store: Path):
    from datetime import date
    from math import dist

    from geo.figure import status_figure

    axes = status_figure(statuses_on(shipped_store), day=date(2021, 6, 1)).axes[0]
    marks = {line.get_gid(): line for line in axes.lines if line.get_gid()}
    for road, rail in (("tumen-namyang-road", "tumen-namyang-rail"),
                       ("jian-manpo-road", "jian-manpo-rail")):  # fmt: skip
        a, b = (marks[f"crossing-{i}"] for i in (road, rail))
        apart = dist(*axes.transData.transform([a.get_xydata()[0], b.get_xydata()[0]]))
        assert apart * 72 / axes.figure.dpi >= a.get_markersize(), (road, rail)  # both seen
