"""`crossings report`: a printable PDF of one crossing, read back as text by a PDF reader."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.browse import show_crossing
from geo.cli import cli
from geo.report import Paragraph, render_report, report_content

DAY = "2026-12-01"


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("the network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def report(store: Path, crossing: str, out: Path, *extra: str):
    return CliRunner().invoke(
        cli, ["report", crossing, "--store", str(store), "--out", str(out), *extra]
    )


#: The line at the foot of every page.
FOOTER = re.compile(
    r"^\S+: status on \d{4}-\d\d-\d\d; made on \d{4}-\d\d-\d\d by `crossings report` from "
    r"the crossings inventory\. Page (\d+) of (\d+)$",
    flags=re.MULTILINE,
)


def pages_text(source: Path | bytes) -> list[str]:
    """The text of each page, as pypdf extracts it, without the line at its foot."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(source) if isinstance(source, bytes) else source)
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert [m.groups() for m in FOOTER.finditer(text)] == [
            (str(number), str(len(reader.pages)))
        ]
        pages.append(FOOTER.sub("", text))
    return pages


def squeezed(text: str) -> str:
    """Text without its white space: a wrapped line reads back with a line break in it."""
    return "".join(text.split())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def friendship(shipped_store: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report") / "friendship.pdf"
    result = report(shipped_store, "friendship-bridge", out, "--as-of", DAY)
    return result, out


def test_the_report_holds_every_record_of_the_history_and_the_evidence_quote(
    friendship, shipped_store: Path, no_network
):
    result, out = friendship
    assert result.exit_code == 0, result.output
    pages = pages_text(out)
    assert result.stdout == ""  # stdout is data; the one line about the file is on stderr
    assert result.stderr == (
        f"{out}: the report of friendship-bridge on {DAY}, {len(pages)} pages\n"
    )
    history = show_crossing(shipped_store, "friendship-bridge", as_of=date(2026, 12, 1))
    text = "\n".join(pages)
    whole = squeezed(text)
    assert len(history.records) > 30
    missing = [r.id for r in history.records if r.id not in text]
    assert missing == []
    evidence = history.status.evidence
    assert evidence is not None and evidence.source_quote and evidence.source_url
    assert squeezed(evidence.source_quote) in whole
    assert f"Evidence: record {evidence.id}, dated {evidence.date.text}" in text
    assert squeezed(evidence.source_url) in whole
    # The names in each script read back as characters, not as glyph numbers.
    crossing = history.crossing
    assert "中朝友谊桥" in text and "조중우의교" in text and crossing.name_zh == "中朝友谊桥"
    assert f"Status on {DAY}" in text and "Status today" in text
    assert squeezed("Point: lat 40.11500, lon 124.39250 (WGS84), within ±300\u00a0m.") in whole
    assert "A. Sino-Korean Friendship Bridge" in text  # its structure, lettered as on the map
    assert f"History: {len(history.records)} records" in text
    # Every quote of the history is there whole, wherever its lines and pages break.
    quotes = [r.source_quote for r in history.records if r.source_quote]
    assert len(quotes) > 10
    assert [q[:40] for q in quotes if squeezed(q) not in whole] == []


def test_the_fonts_are_embedded_and_the_map_inset_is_drawn(friendship):
    from pypdf import PdfReader

    _, out = friendship
    reader = PdfReader(out)
    fonts = {}
    for page in reader.pages:
        for reference in page["/Resources"]["/Font"].values():
            font = reference.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor.get_object()
    assert fonts and all(fonts.values()), fonts
    assert any("NotoSansCJK" in name for name in fonts)
    assert len(reader.pages[0].images) == 1  # the map inset
    assert all(len(page.images) == 0 for page in reader.pages[1:])
    # Nothing in the file is a link: addresses from the store are text only.
    assert all("/Annots" not in page for page in reader.pages)


def test_a_crossing_without_a_point_says_so_and_why(shipped_store: Path, tmp_path: Path):
    out = tmp_path / "shuangmufeng.pdf"
    result = report(shipped_store, "双目峰", out, "--as-of", DAY)  # a name resolves to its id
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"{out}: the report of shuangmufeng-samjiyon on {DAY}")
    text = "\n".join(pages_text(out))
    crossing = show_crossing(shipped_store, "shuangmufeng-samjiyon").crossing
    assert crossing.location is None and crossing.location_note
    assert "No point: the store holds no coordinates for it" in text
    assert squeezed(crossing.location_note) in squeezed(text)
    assert "Point: lat" not in text
    from pypdf import PdfReader

    assert len(PdfReader(out).pages[0].images) == 0  # no point, no structure: no map


def hostile_notes() -> str:
    """5,000 characters of words, then 4,000 characters without a space: no two parts alike."""
    hexes = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(200))
    words = " ".join(hexes[i : i + 9] for i in range(0, 4_500, 9))[:5_000]
    return words + " " + hexes[5_000:9_000]


def test_hostile_text_is_printed_as_text_whole_across_pages(store: Path, tmp_path: Path):
    from geo.record import add_observation

    notes = hostile_notes()
    summary = "<script>alert(1)</script> {nb} **bold** $x^2$ <b>not bold</b>"
    record_id = add_observation(
        store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2025-06",
            "kind": "traffic",
            "summary": summary,
            "source_name": "<a href='javascript:alert(1)'>Hostile & co</a>",
            "source_url": "https://example.org/x?a=<script>",
            "source_type": "news_report",
            "source_detail": "D" * 2_000,
            "notes": notes,
            "source_quote": "<img src=x onerror=alert(1)> 中文 한국어",
        },
    )
    out = tmp_path / "quanhe.pdf"
    result = report(store, "quanhe-wonjong", out, "--as-of", "2025-07-01")
    assert result.exit_code == 0, result.output
    pages = pages_text(out)
    text = "\n".join(pages)
    assert record_id in text
    assert summary in text  # not markup, not a page number, not maths
    assert "<a href='javascript:alert(1)'>Hostile & co</a>" in text
    assert "Quote: “<img src=x onerror=alert(1)> 中文 한국어”" in text
    assert squeezed(f"Notes: {notes}") in squeezed(text)  # wrapped, never cut
    assert squeezed("D" * 2_000) in squeezed(text)
    first = next(i for i, page in enumerate(pages) if squeezed(notes[:60]) in squeezed(page))
    last = next(i for i, page in enumerate(pages) if squeezed(notes[-60:]) in squeezed(page))
    assert last > first  # the text goes on onto the next page


def test_characters_no_font_has_and_controls_are_shown_as_their_code(store: Path):
    # Validation keeps these out of a store; a store written by another tool may hold them.
    content = report_content(store, "friendship-bridge", as_of=date(2025, 1, 1))
    odd = "bell \x07 escape \x1b[2J face 😀 thai ก rtl \u202eevil"
    data, count = render_report(replace(content, body=(*content.body, Paragraph(odd))))
    pages = pages_text(data)
    assert count == len(pages)
    assert "bell [U+0007] escape [U+001B][2J face 😀 thai [U+0E01] rtl [U+202E]evil" in pages[-1]


@pytest.mark.parametrize("how", ["hard link", "symbolic link", "the store itself"])
def test_the_store_is_never_written_over(store: Path, tmp_path: Path, how: str):
    if how == "the store itself":
        target = store.with_suffix(".pdf")
        store.rename(target)
        store = target
    else:
        target = tmp_path / "report.pdf"
        (os.link if how == "hard link" else os.symlink)(store, target)
    before = digest(store)
    result = report(store, "friendship-bridge", target, "--force")
    assert result.exit_code == 1
    assert f"Error: --out: '{target}' is the store this command reads" in result.stderr
    assert "Traceback" not in result.output
    assert digest(store) == before


def test_a_bad_day_is_one_clear_error_and_nothing_is_written(store: Path, tmp_path: Path):
    out = tmp_path / "r.pdf"
    result = report(store, "friendship-bridge", out, "--as-of", "2026-13-01")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for --as-of: '2026-13-01' is not a date. Allowed: YYYY, YYYY-MM "
        "or YYYY-MM-DD (a year or a month means its last day), e.g. 2021-06-01."
    )
    assert result.stderr.count("Error") == 1 and "Traceback" not in result.output
    assert not out.exists()


def test_an_unknown_crossing_or_a_file_that_is_not_a_pdf_is_refused(store: Path, tmp_path: Path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    result = report(store, "nowhere", tmp_path / "r.pdf")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ID: 'nowhere' is not a crossing in the inventory.")
    result = report(store, "friendship-bridge", tmp_path / "r.png")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: --out: '{tmp_path / 'r.png'}' does not end in .pdf. Allowed: a file name "
        "ending in .pdf. Fix: name the file e.g. r.pdf\n"
    )
    out = tmp_path / "kept.pdf"
    out.write_bytes(b"my report")
    result = report(store, "friendship-bridge", out)
    assert result.exit_code == 1 and "exists already" in result.stderr
    assert out.read_bytes() == b"my report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.pdf"]
