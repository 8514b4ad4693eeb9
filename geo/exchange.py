"""Exchange formats: read records from CSV and GeoJSON files as rows of text fields.

Each reader returns ``(row_number, fields)`` pairs, with row numbers as a
person sees them in the file (the CSV header is row 1, so data starts at row 2;
GeoJSON features count from 1). Turning fields into records is the job of
:mod:`geo.validate`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import BatchValidationError, RecordValidationError, RowProblem
from geo.model import STATUS_COLOURS
from geo.store import schema

if TYPE_CHECKING:
    from datetime import date

    from geo.model import Crossing, FuzzyDate, LonLat, Observation, Structure, TradeFigure
    from geo.status import StatusStep

__all__ = [
    "CROSSING_COLUMNS",
    "CSV_ENCODINGS",
    "CSV_QUOTED_STARTS",
    "EXPORT_SUFFIXES",
    "KML_FIELDS",
    "KMZ_ICON",
    "LAYERS_GEOJSON",
    "OBSERVATION_COLUMNS",
    "STRUCTURE_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "TRADE_COLUMNS",
    "WGS84_NAMES",
    "CsvFormat",
    "check_geojson_crs",
    "crossing_fields",
    "csv_cell",
    "csv_encoding",
    "iter_csv_columns",
    "iter_rows",
    "observation_fields",
    "read_csv_format",
    "read_csv_header",
    "read_csv_rows",
    "read_rows",
    "trade_fields",
    "unsupported_file",
    "write_csv",
    "write_csv_layers",
    "write_geojson",
    "write_geojson_layers",
    "write_kml",
]

#: File name endings of each export format (the first is the usual one).
EXPORT_SUFFIXES = {
    "geojson": (".geojson", ".json", ".zip"),
    "kml": (".kml", ".kmz"),
    "csv": (".csv", ".zip"),
    "gpkg": (".gpkg",),
}
#: File name endings that ``read_rows`` understands.
SUPPORTED_SUFFIXES = (".csv", ".geojson", ".json", ".kml", ".kmz")

Row = tuple[int, dict[str, object]]
#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: First characters of a cell that ``write_csv`` quotes: a formula's, and the quote itself,
#: so that a text which starts with a quote reads back unchanged.
CSV_QUOTED_STARTS = (*_FORMULA_STARTS, "'")


def _file_error(path: Path, problem: str) -> RecordValidationError:
    return RecordValidationError(
        "file",
        str(path),
        problem,
        "a CSV file with a header row, or a GeoJSON FeatureCollection of points",
        "check the path and the file's format (see `crossings import --help`)",
    )


#: The encodings a CSV file is read in, by the name a user gives: the name a message uses, and
#: Python's codec. Big5 is read as Windows writes it (code page 950, which holds Big5).
_ENCODINGS = {
    "utf-8": ("UTF-8", "utf-8-sig"),
    "utf-16": ("UTF-16", "utf-16"),
    "utf-16le": ("UTF-16LE", "utf-16-le"),
    "utf-16be": ("UTF-16BE", "utf-16-be"),
    "gb18030": ("GB18030", "gb18030"),
    "cp949": ("CP949", "cp949"),
    "euc-kr": ("EUC-KR", "euc_kr"),
    "big5": ("Big5", "cp950"),
}
#: The names ``encoding`` takes, in any case, with or without ``-`` and ``_``.
CSV_ENCODINGS = tuple(_ENCODINGS)
#: Each name as it is looked up (lower case, no ``-``, ``_`` or space), with other names of
#: the same encodings or of encodings they hold (GBK and GB2312 are within GB18030).
_ENCODING_NAMES = {name.replace("-", ""): name for name in _ENCODINGS} | {
    "utf8sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "uhc": "cp949",
    "cp950": "big5",
}
#: How much of a file its encoding and separator are found from, in bytes.
_SAMPLE_BYTES = 1 << 20
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
)
#: The East Asian encodings a file that is not UTF-8 may be in, in the order they are tried.
_EAST_ASIAN = ("cp949", "gb18030", "big5")
#: The separators a CSV file may use, in the order a tie is settled.
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
#: The fewest letters (hangul and Han characters) of a CP949 reading that tell Korean from
#: Chinese read so; a shorter file that GB18030 reads too must name its encoding.
_FEWEST_LETTERS = 8
#: The hangul syllables in common use: the 1,000 most frequent in about 500,000 syllables of
#: Korean text (the Korean translations of free software), most frequent first. They are 99%
#: of the hangul of the seed's Korean names and quotes, and about 40% of Chinese read as Korean.
_FREQUENT_HANGUL = frozenset(
    "이다니지을수에습는로를하시가없자스일의정기어용파서음합리사트할인한오은션위터아않문있그드대"
    "제보상만부프으름값치표크옵모작함해실입패데바력키전소형고버나식여명중도경설행면된업디요되라"
    "열들세메성못구블목호개비적레출과동록류변거잘화료테령번미조원야내장단마브필환타태우렉했현체"
    "주추연공유코너재간복읽무본분와안항러선커반계색결베포최십더르었당때려알페래또줄임른방속진능"
    "절확접저랜럼카증백텍참검국택칼템처두퍼법준종덱새았각건끝초신발쪽생밋게든활램매티예링져쓰영"
    "배클산젯됨플찾같림운널렬숫집권축올역삭근린릴딩쓸관토룹것허글암닙젝규청통향병범째볼따길헤순"
    "맞슬받꾸압롤언별콘창턴격외약및석까잭말뒤런완폴남컨뉴루됩불막존잠케투듈후쿼컬네노심금양직움"
    "쇄될립피돌점셀붙빠밀히셸웨캐릭많졌누칙꿀왼독냅픽며꼴취닌셋뷰닫족앞께워충듭빈살감등탭콜편강"
    "켓벗큰채급날란님달특효묶응갈핑차질났울높뜀춤윈델락롯교손긴퀀낼엔슈침벨먼년싱덮떤넣객략짜랑"
    "씁섬혹회갑깁넘련꿈책덤칠애벤탈견귀캘술논깃납월릿짐봉푸첫머량롬탐컴탄송핸획옴틀꿉폭쿠갯잡힌"
    "액큼북릅므람섹룰옛롭풀엘답괄큽론옮핀깅겟뀌온멈줍줌맨럭륨물랍틴민난튜김빌끊숨탬맵율멀놓웃홈"
    "썬횟률겠겨늘골짧눌총칸판웁즈빼징렇팅황밍멤렸평덴짝팔둘혼톡쳐얼험맥랫쉼칭밑럽킨휴품묵폼박몇"
    "끄뢰끌깊겹낮왕군넷팝짓킹망쉘갱맷몬떼균천헝킷즘랩뜁콤닉얻닥뀐써멘펴냄봅셰큐즉걸냐몰랙춥냈측"
    "뛰팩킴왔웹죽몽칩렌켜좌낸덜찬둡떻밖흐룬빨톱탕렀깨쌍느던톰끔샷센슷텐슨꺼득떠쓴곳틸벳학츠홀씀"
    "였렛짙셔킬갖잔콩캔춘끕꼭엄쉬철억곤긺좋춰친튀샤씩잉녹듬엽깜뜻삼갔앙벵젠왑얕솔엇옆꿔셜퓨착럴"
    "극잃셈듦눈끼앱힐얄묘뽑샘팡담뒷첩섞밝익뜨협텔악겼닛뿐깔뺀층삽맴멧룩닐썼킵희첨웠혔펙례뀜좀딸"
    "곱탑엑퀴츄벡벽밈넓쇼켈왈벌뺄샨쉽앵승괴찰됐폰툼털곡닝캄콰눕휘팬낡멕힙씨틱냥콥꾼픈캡쨌얇뀝헨"
    "얀덧념듯섭쌓풍앰쳤봄쪼밤퓌윤딘눅앨떄켬꿨뛸빙빛놔캣샌싼깥좁떨밴뭔첸펠광윗핵펌흔펀죄옥홍힘넌"
    "싶웰믹넥괌렘펄빗툴띄둠잇촐촉뇨낭뉘풋솜멋졸헬쁘뮬뮤혈쥴냉휠폈켰놈흉늄컷퀘싸믿풉엠둬췄엉빅늦"
    "퀵딕끈녁톤벼육껐흑갸앤핏혀켭꼬겁끗궈돈뺍묻켄헴욕밸빡틈뚬텝럿튈삐돋찼똑농깝멎훼튼붓탁뚜껑잊"
    "봇벰뷔팜촨좡즐귈쿡퍽옹탱롱옌윽폐딜셨왜꽉셉곧눔쁨딱섯뀔셧젼탤굵겉훅푼홑둔켤깐찍숙샀웍샬땐헀"
    "놀펜샵첵딧펼뜹녕쌀핫폿팽낌훌륭밉뭘쥬척댜헙킂겪밧콴짯낙듐텡봐셕찮굳뗄덩쯤텟굴쾨엣젤룸얏랄몸"
    "옷흰톨뭄듀렙먀펭욤궜"
)
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is read: its encoding, how that was found, and its separator.

    ``found_by`` is "given", "byte-order mark", "valid UTF-8" or "detected"
    (a reading chosen as the likeliest of several: a guess worth naming).
    """

    encoding: str
    found_by: str
    delimiter: str

    def __str__(self) -> str:
        return f"{_ENCODINGS[self.encoding][0]} ({self.found_by})"


def csv_encoding(name: str) -> str:
    """Return the encoding a name stands for, as :data:`CSV_ENCODINGS` spells it.

    Raises
    ------
    RecordValidationError
        If it names no encoding a CSV file is read in.

    Examples
    --------
    >>> csv_encoding("GBK"), csv_encoding("UTF_16LE"), csv_encoding("EUC-KR")
    ('gb18030', 'utf-16le', 'euc-kr')
    """
    found = _ENCODING_NAMES.get(re.sub(r"[-_\s]", "", str(name).lower()))
    if found is None:
        raise RecordValidationError(
            "encoding",
            name,
            "is not an encoding a CSV file is read in",
            f"{', '.join(CSV_ENCODINGS)} (gbk and gb2312 are read as gb18030, cp950 as big5)",
            'name one of them; what a spreadsheet saves as "CSV UTF-8" is utf-8',
        )
    return found


def _encoding_error(value: str, problem: str) -> RecordValidationError:
    return RecordValidationError(
        "encoding",
        value,
        problem,
        "UTF-8 (with or without a byte-order mark), UTF-16 (with one), GB18030, CP949 "
        "(EUC-KR) or Big5",
        f"name the file's encoding (the encoding argument: {', '.join(CSV_ENCODINGS)}), or "
        'save it from the spreadsheet as "CSV UTF-8"',
    )


def _decoded(sample: bytes, encoding: str, whole: bool) -> str:
    """Decode a file's first bytes strictly; a character cut at the end of a part is left out."""
    decoder = codecs.getincrementaldecoder(_ENCODINGS[encoding][1])()
    return decoder.decode(sample, final=whole).removeprefix("\ufeff")


def _fault(err: UnicodeDecodeError) -> str:
    """Say where a file stops being text in an encoding."""
    return f"byte {err.object[err.start]:#04x} at offset {err.start:,}: {err.reason}"


def _header_names(text: str, delimiter: str) -> set[str]:
    """Return the known column names the first line of a text holds, split at ``delimiter``."""
    line = text.split("\n", 1)[0]
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a cell longer than the csv module reads: no column's name
        return set()
    return {cell.strip() for cell in cells} & _KNOWN_COLUMNS


def _delimiter(text: str) -> str:
    """Return the separator that splits the header into the most known names (else a comma)."""
    counts = {d: len(_header_names(text, d)) for d in _DELIMITERS}
    return max(counts, key=counts.__getitem__)


def _readings(sample: bytes, names: Iterable[str], whole: bool) -> dict[str, str]:
    """Return the texts each encoding reads strictly from a sample, with known columns."""
    texts = {}
    for name in names:
        try:
            text = _decoded(sample, name, whole)
        except UnicodeDecodeError:
            continue
        if any(_header_names(text, d) for d in _DELIMITERS):
            texts[name] = text
    return texts


def _korean_letters(text: str) -> int:
    """Return the letters of a CP949 reading that is Korean (else 0): hangul and Han characters.

    It is Korean if at least 90% of them are everyday hangul, the 2,350
    syllables of KS X 1001, and at least 60% of its hangul are in common use.
    Chinese read as CP949 gives a Han character for about every other hangul
    (or cannot be read), and uncommon hangul; Big5 read so gives hangul
    outside the everyday set.
    """
    counts = Counter(_ASCII_RUNS.sub("", text))
    everyday = hangul = common = letters = 0
    for char, n in counts.items():
        if "\uac00" <= char <= "\ud7a3":
            hangul += n
            everyday += n if _encodes(char, "euc_kr") else 0
            common += n if char in _FREQUENT_HANGUL else 0
        elif _is_han(char):
            letters += n
    letters += hangul
    korean = everyday > 0 and everyday >= 0.9 * letters and common >= 0.6 * hangul
    return letters if korean else 0


def _is_han(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000


def _encodes(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _everyday_share(encoding: str, text: str) -> float:
    """Return the share of a Chinese reading's characters that are of the encoding's everyday set.

    For GB18030, GB2312; for Big5, its symbols and level-1 characters (A140-C67E).
    Big5 read as GB18030, or GB2312 read as Big5, gives about half of them.
    """
    counts = Counter(_ASCII_RUNS.sub("", text))
    total = sum(counts.values())
    if total == 0:
        return 1.0
    everyday = 0
    for char, n in counts.items():
        if encoding == "gb18030":
            everyday += n if _encodes(char, "gb2312") else 0
        elif _encodes(char, "cp950"):
            everyday += n if b"\xa1\x40" <= char.encode("cp950") <= b"\xc6\x7e" else 0
    return everyday / total


def _detected(path: Path, sample: bytes, whole: bool) -> tuple[str, str, str]:
    """Return the encoding of a file's first bytes, how it was found, and the text it reads."""
    for mark, name in _BYTE_ORDER_MARKS:
        if sample.startswith(mark):
            try:
                return name, "byte-order mark", _decoded(sample, name, whole)
            except UnicodeDecodeError as err:
                raise _encoding_error(
                    name, f"does not read {path} after its byte-order mark ({_fault(err)})"
                ) from err
    tried = []
    if b"\x00" in sample:  # UTF-16 without a byte-order mark: each ASCII letter has a zero byte
        tried.append("UTF-16")
        wide = _readings(sample, ("utf-16le", "utf-16be"), whole)
        if wide:
            name = next(iter(wide))
            return name, "detected", wide[name]
    try:
        return "utf-8", "valid UTF-8", _decoded(sample, "utf-8", whole)
    except UnicodeDecodeError as err:
        not_utf8 = err
    texts = _readings(sample, _EAST_ASIAN, whole)
    letters = _korean_letters(texts["cp949"]) if "cp949" in texts else 0
    if letters >= _FEWEST_LETTERS or (letters and "gb18030" not in texts):
        return "cp949", "detected", texts["cp949"]
    if letters:
        raise _encoding_error(
            str(path),
            f"is not UTF-8 ({_fault(not_utf8)}), and its {letters} letters read as Korean in "
            f"CP949 and as Chinese in GB18030: too few to tell which (it takes "
            f"{_FEWEST_LETTERS})",
        )
    shares = {name: _everyday_share(name, text) for name, text in texts.items() if name != "cp949"}
    likeliest = max(shares, key=shares.__getitem__, default=None)  # GB18030 on a tie
    if likeliest is not None and shares[likeliest] >= 0.5:
        return likeliest, "detected", texts[likeliest]
    tried += [_ENCODINGS[name][0] for name in _EAST_ASIAN]
    raise _encoding_error(
        str(path),
        f"is not UTF-8 ({_fault(not_utf8)}), and no encoding tried reads it as a table of "
        f"known columns and likely text: {', '.join(tried)}",
    )


def read_csv_format(path: str | Path, *, encoding: str | None = None) -> CsvFormat:
    """Find how a CSV file is read: its encoding, and its separator (comma, semicolon or tab).

    The separator is the one that splits the header line into the most known
    column names (a comma where none does). Without ``encoding``, the file's
    first MiB says which it is, in this order: a byte-order mark (UTF-8,
    UTF-16LE, UTF-16BE); UTF-16 without one, for a file with zero bytes whose
    header so reads; UTF-8, where it is valid; CP949, where its reading is
    Korean (at least 90% of its hangul and Han characters are everyday
    hangul, and 60% of its hangul in common use; a Korean reading of fewer
    than 8 letters, which GB18030 reads as Chinese too, is refused as too
    short to tell); else the likelier of
    GB18030 and Big5 (more of its characters in GB2312, or in Big5's symbols
    and level-1 characters; at least half; GB18030 on a tie). An East Asian
    reading must decode strictly and name known columns in its header; it is
    a guess (``found_by`` "detected").

    Parameters
    ----------
    path : str or Path
        The file.
    encoding : str, optional
        Its encoding, one of :data:`CSV_ENCODINGS`, instead of finding it.

    Returns
    -------
    CsvFormat

    Raises
    ------
    RecordValidationError
        Field ``encoding``: the given encoding cannot read the file's first
        MiB, or no encoding tried can; field ``file``: it cannot be opened.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            sample = handle.read(_SAMPLE_BYTES)
            whole = not handle.read(1)
    except OSError as err:
        raise _file_error(path, f"cannot be read ({err})") from err
    if encoding is None:
        name, found_by, text = _detected(path, sample, whole)
        return CsvFormat(name, found_by, _delimiter(text))
    name = csv_encoding(encoding)
    try:
        text = _decoded(sample, name, whole)
    except UnicodeDecodeError as err:
        raise _encoding_error(name, f"does not read {path} ({_fault(err)})") from err
    return CsvFormat(name, "given", _delimiter(text))


def read_csv_rows(path: str | Path, *, encoding: str | None = None) -> list[Row]:
    """Read a CSV file into rows, in the encoding and with the separator it is found to have.

    See :func:`read_csv_format`. In a file separated by semicolons (as
    spreadsheets save where a comma is the decimal mark), ``lat`` and ``lon``
    may be written with a decimal comma.

    Raises
    ------
    RecordValidationError
        If the file cannot be read, is not in an encoding read, or has no header.
    """
    return list(_iter_csv_rows(Path(path), encoding))


def _iter_csv_rows(
    path: Path, encoding: str | None, only: Collection[str] | None = None
) -> Iterator[Row]:
    """Yield a CSV file's rows as fields; with ``only``, each row holds only those columns.

    Rows are numbered as a spreadsheet shows them, blank rows left out; a row
    with fewer cells than the header has None in the columns it lacks.
    """
    found = read_csv_format(path, encoding=encoding)
    names: list[str] = []
    for numbers, rows in _csv_chunks(path, found, names, 1024):
        for number, cells in zip(numbers, rows, strict=True):
            fields: dict[str, object]
            if only is None:
                fields = dict(zip(names, cells, strict=True))
            else:
                fields = {n: cell for n, cell in zip(names, cells, strict=True) if n in only}
            if found.delimiter == ";":
                _decimal_points(fields)
            yield number, fields


def iter_csv_columns(
    path: str | Path, *, encoding: str | None = None, size: int = 20_000
) -> Iterator[tuple[list[int], dict[str, list[str | None]]]]:
    """Yield a CSV file's rows in chunks of at most ``size``: their numbers and their columns.

    The rows of :func:`read_csv_rows`, column by column: a check of many rows
    reads a column at once, and a file of any size is never held whole.

    Raises
    ------
    RecordValidationError
        As :func:`read_csv_rows`.
    """
    path = Path(path)
    found = read_csv_format(path, encoding=encoding)
    names: list[str] = []
    for numbers, rows in _csv_chunks(path, found, names, size):
        columns = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
        if found.delimiter == ";":
            for name in ("lat", "lon"):
                if name in columns:
                    columns[name] = list(map(_decimal_point, columns[name]))
        yield numbers, columns


def read_csv_header(path: str | Path, *, encoding: str | None = None) -> list[str]:
    """Return the column names of a CSV file's header row (see :func:`read_csv_rows`)."""
    path = Path(path)
    found = read_csv_format(path, encoding=encoding)
    try:
        with path.open(encoding=_ENCODINGS[found.encoding][1], newline="") as handle:
            return _checked_header(path, next(csv.reader(handle, delimiter=found.delimiter), []))
    except UnicodeDecodeError as err:
        raise _encoding_error(found.encoding, f"does not read {path} ({err.reason})") from err
    except (OSError, csv.Error) as err:
        raise _file_error(path, f"cannot be read ({err})") from err


def _csv_chunks(
    path: Path, found: CsvFormat, names: list[str], size: int
) -> Iterator[tuple[list[int], list[Sequence[str | None]]]]:
    """Yield the rows of a CSV file in chunks: their numbers, and each row's cells, one a column.

    ``names`` is filled with the header's column names before the first chunk.
    Every row too long is named at the end, in one error.
    """
    problems: list[RowProblem] = []
    number = 1
    reader = None
    try:
        with path.open(encoding=_ENCODINGS[found.encoding][1], newline="") as handle:
            reader = csv.reader(handle, delimiter=found.delimiter)
            header = _checked_header(path, next(reader, []))
            names.extend(header)
            width = len(header)
            while rows := list(islice(reader, size)):
                starts = "\x00".join(map("\x00".join, rows))
                if set(map(len, rows)) == {width} and not (
                    starts.startswith("'") or "\x00'" in starts
                ):  # the usual chunk: no blank row, none short or long, no cell quoted
                    yield list(range(number + 1, number + 1 + len(rows))), rows  # type: ignore[misc]
                    number += len(rows)
                    continue
                numbers, cells_of = [], []
                for row in rows:
                    if not row:  # a blank line is no row
                        continue
                    number += 1
                    if len(row) > width:
                        problems.append(
                            RowProblem(number, _extra_cells(header, row[width:], found))
                        )
                        continue
                    cells: Sequence[str | None] = row
                    if "'" in "".join(row):  # a cell may start with the quote write_csv adds
                        cells = list(map(_spreadsheet_text, row))
                    if len(cells) < width:
                        cells = [*cells, *[None] * (width - len(cells))]
                    numbers.append(number)
                    cells_of.append(cells)
                if numbers:
                    yield numbers, cells_of
    except UnicodeDecodeError as err:
        read = reader.line_num if reader is not None else 0  # lines read whole, the header's too
        raise _encoding_error(
            found.encoding, f"does not read {path} beyond line {read:,} ({err.reason})"
        ) from err
    except (OSError, csv.Error) as err:
        raise _file_error(path, f"cannot be read ({err})") from err
    if problems:
        raise BatchValidationError(str(path), problems)


def _checked_header(path: Path, first: list[str]) -> list[str]:
    """Return a file's column names, trimmed; refuse a file without any, or with one twice."""
    header = [name.strip().lstrip("\ufeff").strip() for name in first]
    if not any(header):
        raise _file_error(path, "has no header row")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise _file_error(path, f"names the column {', '.join(map(repr, repeated))} more than once")
    return header


def _extra_cells(
    header: list[str], extra: Sequence[str], found: CsvFormat
) -> RecordValidationError:
    separator = _DELIMITERS[found.delimiter]
    return RecordValidationError(
        "row",
        f"{len(header) + len(extra)} cells",
        f"has more cells than the header's {len(header)} columns",
        "one cell per column of the header",
        f"quote cells that hold a {separator}, or remove the extra cells",
    )


def _decimal_points(fields: dict[str, object]) -> None:
    """Read a latitude or longitude written with a decimal comma (``40,08``) as ``40.08``."""
    for name in ("lat", "lon"):
        if name in fields:
            fields[name] = _decimal_point(fields[name])


def _decimal_point(value: object) -> object:
    if isinstance(value, str) and _DECIMAL_COMMA.fullmatch(value.strip()):
        return value.strip().replace(",", ".")
    return value


def _spreadsheet_text(value: str | None) -> str | None:
    """Undo the quote that ``write_csv`` puts before a cell a spreadsheet would run as a formula."""
    if value and value[0] == "'" and value[1:2] in CSV_QUOTED_STARTS:
        return value[1:]
    return value


def _feature_fields(number: int, feature: object) -> dict[str, object]:
    """Return one GeoJSON feature as fields, or raise naming what is wrong with it."""

    def wrong(part: str, value: object, problem: str, allowed: str) -> RecordValidationError:
        return RecordValidationError(
            part, _short(value), problem, allowed, f"fix feature {number} of the file"
        )

    if not isinstance(feature, dict):
        raise wrong("feature", feature, "is not an object", 'a GeoJSON Feature {"type": "Feature"}')
    properties = feature.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise wrong("properties", properties, "is not an object", "an object of field: value")
    fields = dict(properties or {})
    geometry = feature.get("geometry")
    if fields.get("layer") in ("crossing", "structure"):
        return fields  # written by `crossings export`: skipped by the caller
    if "crossing_id" in fields and fields["crossing_id"] is None:
        fields["crossing_id"] = "border"  # the layer's null: a record about the whole border
    if fields.get("has_own_location") is False:
        geometry = None  # placed at its crossing's point for display only
    if geometry is None:
        return fields
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        raise wrong(
            "geometry",
            kind,
            "is not supported",
            "a Point geometry (or none: the crossing's point is used)",
        )
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) not in (2, 3)
        or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
            for c in coordinates
        )
    ):
        raise wrong(
            "geometry.coordinates",
            coordinates,
            "is not a point",
            "[longitude, latitude] as two finite numbers (RFC 7946)",
        )
    lon, lat = coordinates[0], coordinates[1]  # GeoJSON is lon, lat (RFC 7946)
    for name, value in (("lon", lon), ("lat", lat)):
        given = fields.get(name)
        if given not in (None, "") and not _same_number(given, value):
            raise wrong(
                name,
                given,
                f"contradicts the geometry's {name} {value}",
                "the geometry's coordinates, or no lat/lon property",
            )
    fields["lon"], fields["lat"] = lon, lat
    return fields


def _same_number(given: object, value: float) -> bool:
    try:
        return abs(float(str(given)) - value) < 1e-9
    except ValueError:
        return False


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


#: The names a GeoJSON ``crs`` member may give WGS84 longitude and latitude by (RFC 7946 drops
#: the member: lon/lat on WGS84 is the only one; older files name it).
WGS84_NAMES = frozenset(
    {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326", "CRS84"}
)


def check_geojson_crs(data: object, path: str | Path) -> None:
    """Refuse a GeoJSON file that declares coordinates other than WGS84 longitude and latitude.

    Its numbers could pass for degrees (EPSG:3857's near the equator do), so
    the declaration is never ignored.

    Raises
    ------
    RecordValidationError
        Naming the declared reference system and the fix.
    """
    crs = data.get("crs") if isinstance(data, dict) else None
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name not in WGS84_NAMES:
        raise RecordValidationError(
            "crs",
            _short(name if name is not None else crs),
            f"of {Path(path).name} is not WGS84 longitude and latitude",
            "no crs member (RFC 7946), or one naming EPSG:4326 or CRS84",
            "reproject the file to EPSG:4326, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson",
        )


def _iter_geojson_rows(path: Path) -> Iterator[Row]:
    """Yield the observation rows of a GeoJSON file, a feature at a time as it is read.

    A file of any size is never held whole. Every bad feature is named at the end
    (BatchValidationError), after the good rows before it were yielded: a caller
    that writes them does so inside a transaction that this error undoes.
    """
    top: dict[str, object] = {}  # the members other than the features
    problems: list[RowProblem] = []
    number = 0
    features_seen = False

    def checked(feature: object) -> Iterator[Row]:
        nonlocal number
        number += 1
        try:
            fields = _feature_fields(number, feature)
        except RecordValidationError as err:
            problems.append(RowProblem(number, err))
            return
        if fields.get("layer") not in ("crossing", "structure"):
            yield number, fields

    for name, value in _geojson_members(path):
        if name is _FEATURE:
            yield from checked(value)
        elif name in top or (name == "features" and features_seen):
            raise _file_error(path, f'has two "{_short(name)}" members')
        elif value is _FEATURES:
            features_seen = True  # what came before the features is checked first
            _check_collection(top, path)
        else:
            top[str(name)] = value
    check_geojson_crs(top, path)
    if not features_seen:
        if top.get("type") != "Feature" or "features" in top:
            raise _file_error(path, "is not a GeoJSON FeatureCollection")
        yield from checked(top)  # a file of one feature
    if problems:
        raise BatchValidationError(str(path), problems)


def _geojson_members(path: Path) -> Iterator[tuple[object, Any]]:
    """Yield the members of a GeoJSON file's object as it is read (see _json_members)."""
    import ijson  # here, not at import: only a GeoJSON file needs it

    try:
        with path.open("rb") as handle:
            if handle.read(3) != codecs.BOM_UTF8:
                handle.seek(0)
            events = ijson.basic_parse(handle, use_float=True)
            yield from _json_members(events, ijson.ObjectBuilder)
            for _ in events:  # anything after the object is an error of the file
                pass
    except ijson.JSONError as err:  # also a file not in UTF-8
        raise _file_error(path, f"cannot be read as JSON ({_parse_error(err)})") from err
    except _TooDeepError as err:
        raise _file_error(path, "is nested too deeply to be GeoJSON") from err
    except OSError as err:
        raise _file_error(path, f"cannot be read ({_short(err)})") from err


def _parse_error(err: Exception) -> str:
    """Return what the JSON parser said of a file, on one line: the fault, then where."""
    said = err.args[0] if err.args else err
    if isinstance(said, bytes):
        said = said.decode("utf-8", "replace")
    fault, _, rest = str(said).partition("\n")
    near = rest.partition("\n")[0].strip()
    return f"{fault.rstrip('.')}, at {_short(near)!r}" if near else fault


def _check_collection(top: Mapping[str, object], path: Path) -> None:
    """Refuse a collection whose members so far say its points are not lon/lat, or one feature."""
    check_geojson_crs(top, path)
    if top.get("type") == "Feature":
        raise _file_error(path, "is not a GeoJSON FeatureCollection")


#: In what _json_members gives: the value of "features" when it is an array (its items follow,
#: each as (_FEATURE, item)).
_FEATURES = object()
_FEATURE = object()


def _json_members(events: Iterator[tuple[str, Any]], builder: Any) -> Iterator[tuple[object, Any]]:
    """Yield the members of a JSON object from its parse events: (name, value) each.

    The items of an array named "features" are yielded one at a time as they are
    read, after ("features", _FEATURES). A document that is not an object is one
    member named "". ``builder`` makes a value of its events (ijson's ObjectBuilder).
    """
    first, value = next(events)
    if first != "start_map":
        yield "", _json_value(first, value, events, builder)
        return
    for event, key in events:
        if event == "end_map":
            return
        kind, value = next(events)  # the member named ``key``
        if key == "features" and kind == "start_array":
            yield key, _FEATURES
            for item, start in events:
                if item == "end_array":
                    break
                yield _FEATURE, _json_value(item, start, events, builder)
        else:
            yield key, _json_value(kind, value, events, builder)


def _json_value(first: str, value: Any, events: Iterator[tuple[str, Any]], builder: Any) -> Any:
    """Return the JSON value whose first parse event is ``first``, read from ``events``."""
    if first not in ("start_map", "start_array"):
        return value
    made = builder()
    made.event(first, value)
    depth = 1
    for event, part in events:
        made.event(event, part)
        depth += event in ("start_map", "start_array")
        depth -= event in ("end_map", "end_array")
        if not depth:
            break
        if depth > _DEEPEST:
            raise _TooDeepError
    return made.value


#: The deepest a JSON value of a GeoJSON file may nest (a point feature's values sit 4 deep):
#: deeper, the file is refused before anything reads the value by recursion.
_DEEPEST = 100


class _TooDeepError(Exception):
    """A JSON value nested deeper than _DEEPEST."""


def iter_rows(
    path: str | Path, *, encoding: str | None = None, only: Collection[str] | None = None
) -> Iterator[Row]:
    """Yield observation rows of a CSV, GeoJSON or KML file; CSV and GeoJSON as they are read.

    ``encoding`` is a CSV file's (see :func:`read_csv_format`; found when not given).
    With ``only``, a CSV row holds only those of its columns (a pass that needs
    a few is quicker so); other files' rows hold every field.

    Raises
    ------
    RecordValidationError
        If the suffix is not supported or the file cannot be read.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        yield from _iter_csv_rows(path, encoding, only)
    elif path.suffix.lower() in (".geojson", ".json") and encoding is None:
        yield from _iter_geojson_rows(path)  # read as it is yielded
    else:
        yield from read_rows(path, encoding=encoding)


def read_rows(path: str | Path, *, encoding: str | None = None) -> list[Row]:
    """Read observation rows from a CSV, GeoJSON or KML file, chosen by its suffix.

    ``encoding`` is a CSV file's (see :func:`read_csv_format`; found when not given).

    Raises
    ------
    RecordValidationError
        If the suffix is not supported, the file cannot be read, or an encoding
        is given for a file other than CSV.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_rows(path, encoding=encoding)
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported_file(path)
    if encoding is not None:
        raise RecordValidationError(
            "encoding",
            encoding,
            f"is for a CSV file, and {path.name} is not one",
            "an encoding for CSV files only: GeoJSON is UTF-8, and KML says its own",
            "leave the encoding out",
        )
    if suffix in (".geojson", ".json"):
        return list(_iter_geojson_rows(path))
    return _read_kml_rows(path)


def unsupported_file(path: str | Path) -> RecordValidationError:
    """Return the error for a file whose type (by its suffix) an import cannot read."""
    return RecordValidationError(
        "file",
        str(path),
        "has an unsupported type",
        ", ".join(SUPPORTED_SUFFIXES),
        "save the records as CSV or GeoJSON",
    )


def _file_columns(
    layer: schema.Layer, instead: Mapping[str, tuple[str, ...]], *, version: int | None = None
) -> tuple[str, ...]:
    """Return a layer's columns in files: its stored fields, each in ``instead`` replaced."""
    fields = layer.fields if version is None else layer.at(version)
    return tuple(column for f in fields for column in instead.get(f.name, (f.name,)))


def crossing_fields(crossing: Crossing) -> dict[str, object]:
    """Return a crossing as a flat dict of JSON values."""
    location = crossing.location
    return {
        "id": crossing.id,
        "name_en": crossing.name_en,
        "name_zh": crossing.name_zh,
        "name_ko": crossing.name_ko,
        "aliases": list(crossing.aliases),
        "cn_place": crossing.cn_place,
        "cn_province": crossing.cn_province,
        "kp_place": crossing.kp_place,
        "kp_province": crossing.kp_province,
        "river": crossing.river,
        "mode": crossing.mode,
        "mode_detail": crossing.mode_detail,
        "kind": crossing.kind,
        "lon": location.lon if location else None,
        "lat": location.lat if location else None,
        "location_precision_m": crossing.location_precision_m,
        "location_note": crossing.location_note,
        "location_source": crossing.location_source,
        "location_source_url": crossing.location_source_url,
        "alt_locations": crossing.alt_locations,
        "structure": crossing.structure,
        "notes": crossing.notes,
    }


def structure_fields(structure: Structure) -> dict[str, object]:
    """Return a structure as a flat dict of JSON values (the seed's columns)."""
    location = structure.location
    return {
        "id": structure.id,
        "crossing_id": structure.crossing_id,
        "name_en": structure.name_en,
        "name_zh": structure.name_zh,
        "name_ko": structure.name_ko,
        "kind": structure.kind,
        "lon": location.lon if location else None,
        "lat": location.lat if location else None,
        "location_precision_m": structure.location_precision_m,
        "location_source": structure.location_source,
        "location_source_url": structure.location_source_url,
        "notes": structure.notes,
        "length_m": structure.length_m,
    }


def observation_fields(record: Observation) -> dict[str, object]:
    """Return an observation as a flat dict of JSON values (the import format)."""
    own = record.location if record.has_own_location else None
    return {
        "id": record.id,
        "crossing_id": record.crossing_id or "border",
        "date": record.date.text,
        "precision": record.date.precision,
        "date_start": record.date.start.isoformat(),
        "date_end": record.date.end.isoformat(),
        "kind": record.kind,
        "status": record.status,
        "summary": record.summary,
        "source_name": record.source_name,
        "source_url": record.source_url,
        "source_published": record.source_published.text if record.source_published else None,
        "source_type": record.source_type,
        "source_detail": record.source_detail,
        "side": record.side,
        "lat": own.lat if own else None,
        "lon": own.lon if own else None,
        "replaces": record.replaces,
        "notes": record.notes,
        "recorded_at": record.recorded_at.isoformat().replace("+00:00", "Z"),
        "recorded_by": record.recorded_by,
        "applies_to": ",".join(record.applies_to) or None,
        "until": record.until.text if record.until else None,
        "structure_id": record.structure_id,
        "traffic": ",".join(record.traffic) or None,
        "expected": record.expected.text if record.expected else None,
        "lifecycle": record.lifecycle,
        "source_is_mirror": record.source_is_mirror,
        **{f.name: getattr(record, f.name) or None for f in schema.CARRIED_FIELDS},
    }


#: The columns of an observation in CSV files: what ``crossings import`` reads back. They are
#: the stored fields (geo.store.schema), the point as lat/lon instead of has_own_location.
OBSERVATION_COLUMNS = _file_columns(
    schema.OBSERVATIONS,
    {"date_precision": ("precision",), "has_own_location": ("lat", "lon"), "until_end": ()},
)


def write_csv(
    path: str | Path,
    observations: Sequence[Observation],
    crossings: Mapping[str, Crossing] | None = None,
) -> int:
    """Write observations as CSV in UTF-8 with a byte-order mark (spreadsheets then read 신의주).

    Own points are ``lat``/``lon`` columns; with ``crossings``, each row also
    names its crossing (``crossing_name``, which ``crossings import`` skips).
    A text cell that a spreadsheet would run as a formula (it starts with
    ``= + - @``, a tab or a carriage return) is written with a leading ``'``,
    which the spreadsheet shows as text and ``crossings import`` removes; so is
    a cell that starts with ``'``, so that it reads back unchanged. Returns the
    number of rows.
    """
    columns, rows = _observation_table(observations, crossings)
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        return _write_rows(handle, columns, rows)


def _observation_table(
    observations: Sequence[Observation], crossings: Mapping[str, Crossing] | None
) -> tuple[list[str], Iterator[dict[str, object]]]:
    columns = list(OBSERVATION_COLUMNS)
    if crossings is not None:
        columns.insert(columns.index("crossing_id") + 1, "crossing_name")

    def rows() -> Iterator[dict[str, object]]:
        for record in observations:
            fields = observation_fields(record)
            if crossings is not None:
                crossing = crossings.get(record.crossing_id or "")
                fields["crossing_name"] = crossing.name_en if crossing else "(the whole border)"
            yield fields

    return columns, rows()


def _write_rows(handle: Any, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> int:
    """Write rows as CSV with formula cells quoted (see :func:`write_csv`); return the count."""
    writer = csv.DictWriter(handle, columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    written = 0
    for fields in rows:
        writer.writerow({key: csv_cell(value) for key, value in fields.items()})
        written += 1
    return written


def csv_cell(value: object) -> object:
    """Return a value as a CSV cell, safe to open in a spreadsheet.

    A list is joined by "; "; a text a spreadsheet would run as a formula (it
    starts with ``= + - @``, a tab or a carriage return) is quoted with ``'``.
    """
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    if isinstance(value, str) and value[:1] in CSV_QUOTED_STARTS:
        return "'" + value
    return value


def write_csv_layers(
    path: str | Path,
    crossings: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
    trade: Sequence[TradeFigure],
) -> dict[str, int]:
    """Write a zip of one CSV per layer and return the rows of each.

    The layers: crossings (names and coordinates), structures, observations
    (with their crossing's name; ``crossings import`` reads this file back)
    and trade. Each is UTF-8 with a byte-order mark, formula cells quoted.
    """
    by_id = {c.id: c for c in crossings}
    layers = {
        "crossings": (CROSSING_COLUMNS, map(crossing_fields, crossings)),
        "structures": (STRUCTURE_COLUMNS, map(structure_fields, structures)),
        "observations": _observation_table(observations, by_id),
        "trade": (TRADE_COLUMNS, map(trade_fields, trade)),
    }
    counts = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (columns, rows) in layers.items():
            buffer = io.StringIO(newline="")
            counts[name] = _write_rows(buffer, columns, rows)
            archive.writestr(f"{name}.csv", "\ufeff" + buffer.getvalue())
    return counts


def trade_fields(figure: TradeFigure) -> dict[str, object]:
    """Return a trade figure as a flat dict of JSON values."""
    return {
        "period": figure.period,
        "period_kind": figure.period_kind,
        "flow": figure.flow,
        "value_usd": figure.value_usd,
        "qualifier": figure.qualifier,
        "source_name": figure.source_name,
        "source_url": figure.source_url,
        "source_published": figure.source_published.text if figure.source_published else None,
        "notes": figure.notes,
    }


#: The columns of each layer's CSV: the stored fields, with the point as lon/lat, in the order
#: of the functions that give the fields.
CROSSING_COLUMNS = _file_columns(
    schema.CROSSINGS,
    {"location_precision_m": ("lon", "lat", "location_precision_m")},
    version=1,
)
STRUCTURE_COLUMNS = _file_columns(
    schema.STRUCTURES, {"location_precision_m": ("lon", "lat", "location_precision_m")}
)
TRADE_COLUMNS = _file_columns(schema.TRADE, {"period_start": (), "period_end": ()})
#: The column names a CSV file's header may hold: a separator or an encoding guessed that
#: finds none of them in the header is not the file's.
_KNOWN_COLUMNS = frozenset(
    {
        *OBSERVATION_COLUMNS,
        *CROSSING_COLUMNS,
        *STRUCTURE_COLUMNS,
        *TRADE_COLUMNS,
        "crossing_name",
        "latitude",
        "longitude",
        "lng",
    }
)


def _point(lon: object, lat: object) -> dict[str, object] | None:
    return None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}


def _feature(
    identifier: object, geometry: dict[str, object], properties: Mapping[str, object]
) -> dict[str, object]:
    """Return a Feature with its record's id as the feature's own (RFC 7946 §3.2)."""
    return {
        "type": "Feature",
        "id": identifier,
        "geometry": geometry,
        "properties": dict(properties),
    }


def _collection(features: list[dict[str, object]], left_out: list[dict[str, str]]) -> str:
    collection: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if left_out:  # a foreign member (RFC 7946 §6.1): what has no point, and why
        collection["left_out"] = left_out
    return json.dumps(collection, ensure_ascii=False, indent=1)


def _observation_features(
    crossings: Sequence[Crossing], observations: Sequence[Observation]
) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    points = {c.id: c.location for c in crossings}
    features, left_out = [], []
    for record in observations:
        fields = observation_fields(record)
        lon, lat = fields.pop("lon"), fields.pop("lat")
        where = points.get(record.crossing_id or "") if lon is None else None
        geometry = _point(lon, lat) or (_point(where.lon, where.lat) if where else None)  # type: ignore[arg-type]
        if geometry is None:
            why = (
                "a record about the whole border"
                if record.crossing_id is None
                else ("its crossing has no point")
            )
            left_out.append({"id": record.id, "why": f"no point: {why}"})
            continue
        properties = {"layer": "observation", "has_own_location": lon is not None, **fields}
        features.append(_feature(record.id, geometry, properties))
    return features, left_out


def write_geojson(
    path: str | Path, crossings: Sequence[Crossing], observations: Sequence[Observation]
) -> tuple[int, int]:
    """Write the observations as one RFC 7946 FeatureCollection (lon, lat; WGS84).

    Each feature's ``id`` is its record's. No feature has a null geometry. A
    record without a point of its own is placed at its crossing's point, with
    ``has_own_location`` false, so that ``crossings import`` keeps it without
    one. A record with no point at all (about the whole border, or of a crossing
    with no point) is left out and listed, with the reason, in the collection's
    ``left_out`` member; CSV and GeoPackage exports keep every record. Returns
    (features, records left out).
    """
    features, left_out = _observation_features(crossings, observations)
    Path(path).write_text(_collection(features, left_out), encoding="utf-8")
    return len(features), len(left_out)


#: The one file of a GeoJSON ``.zip``: GDAL opens an archive as a whole (``/vsizip/NAME.zip``)
#: only when it holds a single file, so the layers share one collection.
LAYERS_GEOJSON = "crossings-structures-observations.geojson"
#: JSON-FG's core (OGC 21-045): GDAL reads a collection that conforms to it as a layer per
#: ``featureType``. The file stays RFC 7946 GeoJSON: JSON-FG's members are foreign members.
_JSON_FG_CORE = "http://www.opengis.net/spec/json-fg-1/0.2/conf/core"


def _json_fg_time(properties: Mapping[str, object]) -> dict[str, object] | None:
    """Return an observation's date as JSON-FG's ``time``: a day, or the days it may mean."""
    if "date_start" not in properties:
        return None  # a crossing or a structure: no time of its own
    if properties.get("precision") == "day":
        return {"date": properties["date_start"]}
    return {"interval": [properties["date_start"], properties["date_end"]]}


def _typed(layer: str, feature: Mapping[str, Any]) -> dict[str, object]:
    """Return a feature with JSON-FG's members: its layer, its time, and no other place."""
    return {
        "type": "Feature",
        "id": feature["id"],
        "featureType": layer,
        "time": _json_fg_time(feature["properties"]),
        "place": None,  # the point is the geometry, in WGS84
        "geometry": feature["geometry"],
        "properties": feature["properties"],
    }


def write_geojson_layers(
    path: str | Path,
    crossings: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
) -> dict[str, int]:
    """Write a zip of one GeoJSON file holding every layer, that GDAL opens as a layer each.

    The file (:data:`LAYERS_GEOJSON`) is one RFC 7946 collection that also
    conforms to JSON-FG: each feature's ``featureType`` names its layer
    (``crossings``, ``structures``, ``observations``), so that GDAL, and QGIS
    through it, open ``/vsizip/NAME.zip`` as those three layers. Each feature's
    ``id`` is its crossing's, structure's or record's; an observation's ``time``
    is its date. None has a null geometry: what has no point is listed, with
    its layer and the reason, in the collection's ``left_out`` member, as
    :func:`write_geojson` lists records. Returns the features of each layer.
    """
    tables: tuple[tuple[str, list[dict[str, object]]], ...] = (
        ("crossings", [crossing_fields(c) for c in crossings]),
        ("structures", [structure_fields(s) for s in structures]),
    )
    layers: dict[str, tuple[list[dict[str, object]], list[dict[str, str]]]] = {}
    for name, rows in tables:
        features, left_out = [], []
        for fields in rows:
            geometry = _point(fields.pop("lon"), fields.pop("lat"))
            if geometry is None:
                left_out.append({"id": str(fields["id"]), "why": "no point in the sources read"})
            else:
                features.append(_feature(fields["id"], geometry, {"layer": name[:-1], **fields}))
        layers[name] = features, left_out
    layers["observations"] = _observation_features(crossings, observations)
    collection: dict[str, object] = {
        "type": "FeatureCollection",
        "conformsTo": [_JSON_FG_CORE],
        "features": [_typed(name, f) for name, (features, _) in layers.items() for f in features],
    }
    left = [{"layer": name, **entry} for name, (_, missing) in layers.items() for entry in missing]
    if left:
        collection["left_out"] = left
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(LAYERS_GEOJSON, json.dumps(collection, ensure_ascii=False, indent=1))
    return {name: len(features) for name, (features, _) in layers.items()}


#: KML 2.2's namespace, the one of every element written.
_KML_NS = "http://www.opengis.net/kml/2.2"
#: The pin a KMZ carries, by its path inside the archive: a white disc that each style's
#: ``color`` tints, so that the file opens offline with the map's colours.
KMZ_ICON = "files/pin.png"
#: The characters XML 1.0 cannot hold (C0 controls other than tab, newline and carriage return;
#: U+FFFE, U+FFFF). Records refuse them, but a store written by other tools may hold them;
#: KML shows U+FFFD in their place rather than write a file no reader opens.
_NOT_IN_XML = dict.fromkeys(
    [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF], "\ufffd"
)
#: The fields of each kind of placemark, each kind declared once as a ``<Schema>``.
_KML_SCHEMAS = {
    "status_period": ("placemark", "status_key", "crossing_id", "record_id"),
    "observation": ("placemark", "status_key", *(c for c in OBSERVATION_COLUMNS if c != "id")),
}


def _kml_description(record: Observation) -> str:
    """Return a record's summary, date and source as HTML, every text escaped."""
    source = escape(record.source_name)
    if record.source_url and record.source_url.startswith(("https://", "http://")):
        source = f'<a href="{escape(record.source_url)}">{source}</a>'
    return f"<p>{escape(record.summary)}</p><p>{escape(record.date.label)} — {source}</p>"


def _kml_text(value: object) -> str:
    """Return a value as text XML can hold (ElementTree escapes ``<``, ``&`` and quotes)."""
    return str(value).translate(_NOT_IN_XML)


def _add(parent: ET.Element, tag: str, text: object = None, **attributes: str) -> ET.Element:
    """Add a KML element (its text and attributes kept as text) to ``parent``."""
    element = ET.SubElement(parent, tag, {k: _kml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _kml_text(text)
    return element


def _kml_when(when: FuzzyDate) -> str:
    """Return a record's date as KML time, at its precision: ``2008``, ``2008-06``, ``2008-06-01``.

    KML 2.2's time is a year, a month, a day or an instant (XML Schema's gYear,
    gYearMonth, date, dateTime), so a record known to the year is not made the
    first of January.
    """
    if when.precision == "year":
        return f"{when.start.year:04d}"
    if when.precision == "month":
        return f"{when.start.year:04d}-{when.start.month:02d}"
    return when.start.isoformat()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _kml_name(
    crossings: Sequence[Crossing],
    observations: Sequence[Observation],
    counts: Mapping[str, int],
    exported: date,
) -> str:
    """Return the document's name, said from what it holds and the day it was written."""
    if len(crossings) == 1:
        what = crossings[0].name_en
    else:
        what = _plural(len(crossings), "China–DPRK border crossing")
    held = [_plural(counts["status_period"], "status period"), "and"]
    held.append(_plural(counts["observation"], "observation"))
    first = min((o.date.start.year for o in observations), default=None)
    last = max((o.date.end.year for o in observations), default=None)
    span = "" if first is None else f", {first}" + ("" if first == last else f"–{last}")
    return f"{what}: {' '.join(held)}{span}, exported {exported.isoformat()}"


def write_kml(
    path: str | Path,
    crossings: Sequence[Crossing],
    timelines: Mapping[str, Sequence[StatusStep]],
    observations: Sequence[Observation],
    *,
    exported: date,
) -> int:
    """Write KML for Google Earth, or KMZ when ``path`` ends in ``.kmz``: a folder per crossing.

    The document is named from what it holds and the day ``exported``. Each
    folder holds a placemark per status period, with a ``TimeSpan`` so that
    Google Earth's time slider shows the status of the day, and a placemark per
    observation, with a ``TimeStamp``, a readable description with its source
    link, and every field in ``ExtendedData`` (which ``crossings import`` reads
    back). An observation's time keeps its date's precision (``2008``,
    ``2008-06``); a status period's holds the days the status rule gives. Each
    kind of placemark declares its fields once, in a ``<Schema>`` its placemarks
    name. A KMZ holds ``doc.kml`` and the pin it names (:data:`KMZ_ICON`); a
    plain KML names no icon, so that the viewer draws its own pin in the status
    colour, with no file to fetch. Returns the number of placemarks.
    """
    target = Path(path)
    packed = target.suffix.lower() == ".kmz"
    root = ET.Element("kml", xmlns=_KML_NS)
    document = _add(root, "Document", id="root_doc")
    name = _add(document, "name")  # said once the placemarks are counted
    _kml_styles(document, KMZ_ICON if packed else None)
    for kind, fields in _KML_SCHEMAS.items():  # KML's order: styles, schemas, then folders
        declared = _add(document, "Schema", name=kind, id=kind)
        for field in fields:
            _add(declared, "SimpleField", name=field, type="string")
    by_crossing: dict[str | None, list[Observation]] = {}
    for record in observations:
        by_crossing.setdefault(record.crossing_id, []).append(record)
    counts = {"status_period": 0, "observation": 0}
    for crossing in [*crossings, None]:
        records = by_crossing.get(crossing.id if crossing else None, [])
        folder = ET.Element("Folder")
        label = crossing.name_en if crossing else "Whole border"
        _add(folder, "name", label)
        if crossing is not None:
            timeline = timelines.get(crossing.id, [])
            counts["status_period"] += _status_placemarks(folder, crossing, timeline)
        where = crossing.location if crossing else None
        counts["observation"] += _observation_placemarks(folder, label, where, records)
        if len(folder) > 1:  # more than its name
            document.append(folder)
    name.text = _kml_text(_kml_name(crossings, observations, counts, exported))
    ET.indent(root, space=" ")
    text = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    if packed:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("doc.kml", text)  # the first file: the one a KMZ reader opens
            archive.writestr(KMZ_ICON, _pin_png())
    else:
        target.write_bytes(text)
    return sum(counts.values())


def _kml_styles(document: ET.Element, icon: str | None) -> None:
    """Add a style per status: a pin in the map's colour for it (KML colours are aabbggrr)."""
    for key, colour in {**STATUS_COLOURS, "observation": "#ffffff"}.items():
        icon_style = _add(_add(document, "Style", id=f"status-{key or 'none'}"), "IconStyle")
        red, green, blue = colour[1:3], colour[3:5], colour[5:7]
        _add(icon_style, "color", f"ff{blue}{green}{red}")
        _add(icon_style, "scale", "0.8" if key == "observation" else "1.1")
        if icon is not None:  # a disc centred on the point
            _add(_add(icon_style, "Icon"), "href", icon)
            _add(icon_style, "hotSpot", x="0.5", y="0.5", xunits="fraction", yunits="fraction")


def _pin_png(size: int = 32) -> bytes:
    """Return the KMZ's pin as a PNG: a white disc with a dark rim and soft edges."""
    middle, radius = (size - 1) / 2, size / 2 - 1
    pixels = bytearray()
    for y in range(size):
        pixels.append(0)  # the row's filter: none
        for x in range(size):
            distance = math.hypot(x - middle, y - middle)
            alpha = min(max(radius + 0.5 - distance, 0.0), 1.0)
            shade = 255 if distance < radius - 3 else 48
            pixels += bytes((shade, shade, shade, round(255 * alpha)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        check = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + check

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(pixels), 9))
        + chunk(b"IEND", b"")
    )


def _placemark(folder: ET.Element, name: str, description: str) -> ET.Element:
    placemark = _add(folder, "Placemark")
    _add(placemark, "name", name)
    if description:
        _add(placemark, "description", description)
    return placemark


def _placemark_data(
    placemark: ET.Element, kind: str, fields: Mapping[str, object], where: LonLat | None
) -> None:
    """Add a placemark's style, its fields (in its kind's ``<Schema>``) and its point.

    KML's order: a placemark's time, then its style, its data and its geometry.
    """
    key = str(fields["status_key"])
    known = key in STATUS_COLOURS or key == "observation"
    _add(placemark, "styleUrl", f"#status-{(key if known else '') or 'none'}")
    data = _add(_add(placemark, "ExtendedData"), "SchemaData", schemaUrl=f"#{kind}")
    for field in _KML_SCHEMAS[kind]:
        value = fields.get(field)
        if value is not None and value != "":
            _add(data, "SimpleData", value, name=field)
    if where is not None and math.isfinite(where.lon) and math.isfinite(where.lat):
        _add(_add(placemark, "Point"), "coordinates", f"{where.lon!r},{where.lat!r}")


def _status_placemarks(
    folder: ET.Element, crossing: Crossing, timeline: Sequence[StatusStep]
) -> int:
    """Add a placemark per status period, with the ``TimeSpan`` Google Earth's slider reads."""
    steps: list[StatusStep] = []
    for step in timeline:
        if not steps or steps[-1].status != step.status:  # one period per status
            steps.append(step)
    for n, step in enumerate(steps):
        deciding = step.record
        placemark = _placemark(
            folder,
            f"{crossing.name_en}: {(step.status or 'no record').replace('_', ' ')}",
            _kml_description(deciding) if deciding else "",
        )
        # The days the status rule gives (a record known to the year counts from its last day).
        span = _add(placemark, "TimeSpan")
        _add(span, "begin", step.since.isoformat())
        if n + 1 < len(steps):
            _add(span, "end", steps[n + 1].since.isoformat())
        fields = {
            "placemark": "status period",  # `crossings import` skips these
            "status_key": step.status or "",
            "crossing_id": crossing.id,
            "record_id": deciding.id if deciding else None,
        }
        _placemark_data(placemark, "status_period", fields, crossing.location)
    return len(steps)


def _observation_placemarks(
    folder: ET.Element, name: str, where: LonLat | None, records: Sequence[Observation]
) -> int:
    """Add a placemark per record, every field in ``ExtendedData`` for the import to read."""
    for record in records:
        # Not the id: GDAL reads a placemark's own id into that field; ids are derived anyway.
        fields: dict[str, object] = {"placemark": "observation", "status_key": "observation"}
        fields |= {k: v for k, v in observation_fields(record).items() if k != "id"}
        placemark = _placemark(
            folder, f"{name}: {record.date.label}, {record.kind}", _kml_description(record)
        )
        _add(_add(placemark, "TimeStamp"), "when", _kml_when(record.date))
        own = record.location if record.has_own_location else where
        _placemark_data(placemark, "observation", fields, own)
    return len(records)


#: KML fields that GDAL adds to every placemark: read as KML, not reported as ignored.
KML_FIELDS = frozenset(
    {
        "id",
        "Name",
        "name",
        "description",
        "timestamp",
        "begin",
        "end",
        "altitudeMode",
        "tessellate",
        "extrude",
        "visibility",
        "drawOrder",
        "icon",
        "snippet",
        "placemark",
        "status_key",
    }
)


def _kml_source(path: Path) -> str:
    """Return what GDAL opens for a KML or KMZ file: for a KMZ, the KML file inside it.

    GDAL's LIBKML driver opens a KMZ itself but finds none of its ``<Schema>``
    declarations, so its fields would be lost; the KML inside (the first, as
    Google Earth reads it) is opened through ``/vsizip/`` instead.
    """
    if path.suffix.lower() != ".kmz":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            inside = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    except (OSError, zipfile.BadZipFile) as err:
        raise _file_error(path, f"cannot be read as KMZ ({err})") from err
    if not inside:
        raise _file_error(path, "holds no KML file (a KMZ is a zip holding doc.kml)")
    return f"/vsizip/{{{path.resolve()}}}/{inside[0]}"


def _read_kml_rows(path: Path) -> list[Row]:

    import pyogrio

    rows: list[Row] = []
    source = _kml_source(path)
    try:
        layers = [name for name, _ in pyogrio.list_layers(source)]
        frames = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on KML styles
            for layer in layers:
                frames.append(pyogrio.read_dataframe(source, layer=layer))
    except Exception as err:
        raise _file_error(path, f"cannot be read as KML ({err})") from err
    number = 0
    problems: list[RowProblem] = []
    for frame in frames:
        columns = set(frame.columns)
        for _, row in frame.iterrows():
            number += 1
            if row.get("placemark") == "status period":
                continue  # written by `crossings export` for Google Earth's time slider
            shape = row.get("geometry")
            if shape is not None and not shape.is_empty and shape.geom_type != "Point":
                problems.append(RowProblem(number, _not_a_point(shape.geom_type)))
                continue
            fields: dict[str, object] = {
                str(key): value
                for key, value in row.items()
                if key not in ("geometry", "id") and isinstance(value, str) and value != ""
            }
            # Placemarks made in Google Earth: map its fields to ours.
            if "summary" not in columns and row.get("Name"):
                fields["summary"] = str(row["Name"])
            if "notes" not in columns and row.get("description"):
                fields["notes"] = str(row["description"])
            stamp = row.get("timestamp")
            if "date" not in columns and stamp is not None and str(stamp) != "NaT":
                fields["date"] = str(stamp)[:10]
            geometry = row.get("geometry")
            if "lat" not in columns and geometry is not None and not geometry.is_empty:
                fields["lon"], fields["lat"] = geometry.x, geometry.y
            rows.append((number, fields))
    if problems:
        raise BatchValidationError(str(path), problems)
    return rows


def _not_a_point(kind: str) -> RecordValidationError:
    """Refuse a placemark of a path or an area: a record is where something was seen."""
    return RecordValidationError(
        "geometry",
        kind,
        "is not a point (Google Earth writes a path or an area so)",
        "a Point placemark: the place where something was seen",
        "put a pin (a point placemark) where it was seen, or give lat and lon; where it stands "
        "for a road or an area, describe it in the summary",
    )
