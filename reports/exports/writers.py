"""Sheets to files: XLSX (XlsxWriter in ``constant_memory`` mode: each row goes to disk
as soon as the next one begins, so memory stays flat however long the list) and CSV
(UTF-8 with a byte order mark, which is how Excel knows the file is UTF-8 and shows the
Chinese; CRLF line ends).

Formula injection (CSV injection): a spreadsheet program takes a cell that begins with
``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return before them) as a
formula, and a citizen's words reach these cells. In CSV such a text gets a leading
apostrophe, which Excel shows as text and LibreOffice too. In XLSX such a text is written
as a string cell (never a formula: nothing here writes formulas) with Excel's quote
prefix style, the mark Excel itself sets when a person types the apostrophe: the cell
shows the text as it was, and editing it keeps it text. The text itself is unchanged, so
the file reads back exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from hotline import i18n
from reports.exports.sheets import Column, Kind, Row, Sheet

# What a spreadsheet program may take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_SHOWN_TIME = "%Y-%m-%d %H:%M"
XLSX_SHOWN_TIME = "yyyy-mm-dd hh:mm"
# Excel's serial day of the Unix epoch (1900 system, its leap-year quirk folded in).
EXCEL_UNIX_EPOCH = 25569
SECONDS_A_DAY = 86400
# Every time zone's offset changes on a quarter of an hour (UTC): within one, one offset.
OFFSET_SPAN_SECONDS = 900
# Offsets remembered per column: list orders come sorted, so a few spans serve most rows.
OFFSETS_KEPT = 4096
# What a sheet's name may not hold in XLSX, and its length.
_SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31

FLAGS = {i18n.CHINESE: ("是", "否"), i18n.ENGLISH: ("yes", "no")}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_safe(text: str) -> str:
    """The text as a CSV cell that no spreadsheet program runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SheetFile(Protocol):
    """A file being written: sheets begun one after another, rows appended to the last."""

    def begin(self, sheet: Sheet) -> None: ...

    def write(self, row: Row) -> None: ...

    def close(self) -> None: ...


class RowsWorksheet(Worksheet):  # type: ignore[misc]
    """XlsxWriter's worksheet with one more way in, for the rows of a long list: a whole
    row of cells, already made into the sheet's XML, appended to the stream of rows
    that ``constant_memory`` mode keeps on disk. XlsxWriter's own ``write_string`` costs
    about 7 µs of CPU a cell (checks, a cell object, then its XML when the next row
    starts), 145 µs a row of this package's orders, two and a half minutes a million;
    this costs a fifth of that. Subclassing the worksheet is XlsxWriter's documented way
    to change how it writes (``add_worksheet(worksheet_class=...)``); what it touches
    inside (the row stream, the last row written, the sheet's dimensions) is kept to
    this class, and tests/test_exports.py reads the files back with openpyxl."""

    def append_row(self, row: int, last_col: int, cells: str) -> None:
        if row > self.previous_row:
            # Writes out the row XlsxWriter itself holds (the header), once.
            self._write_single_row(row)
        self._check_dimensions(row, last_col)
        self.fh.write(f'<row r="{row + 1}">{cells}</row>')


# What XML 1.0 does not allow in text; Excel's own escape for it is _xHHHH_.
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Anything a text needs changed for: one search finds the few cells that do.
_XML_SPECIAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff&<>]")
XLSX_TEXT_MAX = 32767
XLSX_ROWS_MAX = 1_048_576
# The zip's deflate level. XlsxWriter leaves zipfile's default (6), which spends a third
# of a million orders' export compressing; level 1 deflates four times as fast for a
# file a fifth larger (bench/exports.py).
ZIP_LEVEL = 1


def _xml_text(text: str) -> str:
    if len(text) > XLSX_TEXT_MAX:
        text = text[:XLSX_TEXT_MAX]
    if not _XML_SPECIAL.search(text):
        return text
    if _XML_UNSAFE.search(text):
        text = _XML_UNSAFE.sub(lambda m: f"_x{ord(m[0]):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def excel_days(tz: ZoneInfo) -> Callable[[dt.datetime], float]:
    """How an aware time becomes Excel's serial day as a clock in ``tz`` shows it. The
    zone's offset is looked up once per quarter of an hour of UTC, not per cell: the
    lookup (``astimezone``) and the naive subtraction cost two of the three µs a time
    cell took, a fifth of a million orders' export. Kept to the minute shown and more:
    eight decimals of a day are a millisecond."""
    offsets: dict[float, float] = {}

    def days(value: dt.datetime) -> float:
        seconds = value.timestamp()
        span = seconds // OFFSET_SPAN_SECONDS
        offset = offsets.get(span)
        if offset is None:
            if len(offsets) >= OFFSETS_KEPT:
                offsets.clear()  # memory stays flat however scattered the times
            shift = value.astimezone(tz).utcoffset()
            offset = offsets[span] = shift.total_seconds() if shift else 0.0
        return (seconds + offset) / SECONDS_A_DAY + EXCEL_UNIX_EPOCH

    return days


class Workbook(xlsxwriter.Workbook):  # type: ignore[misc]
    """XlsxWriter's workbook, zipped at ``ZIP_LEVEL``. XlsxWriter opens its zip file
    through the name ``ZipFile`` of its ``workbook`` module and offers no option for the
    level; the name is pointed at a zipfile with the level while this workbook is
    stored, and back after. Export jobs run one at a time in a worker process."""

    def _store_workbook(self) -> None:
        original = xlsxwriter.workbook.ZipFile
        xlsxwriter.workbook.ZipFile = functools.partial(zipfile.ZipFile, compresslevel=ZIP_LEVEL)
        try:
            super()._store_workbook()
        finally:
            xlsxwriter.workbook.ZipFile = original


class XlsxFile:
    def __init__(self, path: Path, language: str, tz: ZoneInfo) -> None:
        self.book = Workbook(
            str(path),
            {
                "constant_memory": True,
                # Text stays text: no guessing numbers, formulas or links from it.
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                # Its rows' temporary file beside the export, not in the system's /tmp.
                "tmpdir": str(path.parent),
            },
        )
        self.language = language
        self.tz = tz
        self.header = self.book.add_format({"bold": True, "bg_color": "#EEF2F7"})
        # The cells' styles by number, as the row XML names them.
        self.time_style = self.book.add_format({"num_format": XLSX_SHOWN_TIME})._get_xf_index()
        self.quoted_style = self.book.add_format({"quote_prefix": True})._get_xf_index()
        self.sheet: RowsWorksheet | None = None
        self.current: Sheet | None = None
        self.parts = 0
        self.cells: list[Callable[[str, Any], str]] = []
        self.row = 0

    def begin(self, sheet: Sheet) -> None:
        self.current, self.parts = sheet, 0
        self._add_sheet(sheet)

    def _add_sheet(self, sheet: Sheet) -> None:
        """A worksheet for ``sheet`` (its continuation when a sheet's rows outrun what
        one XLSX sheet holds), with its header row."""
        self.parts += 1
        name = _name(sheet, self.language) + (f" ({self.parts})" if self.parts > 1 else "")
        name = _SHEET_NAME_UNSAFE.sub(" ", name)[-SHEET_NAME_MAX:]
        self.sheet = self.book.add_worksheet(name, worksheet_class=RowsWorksheet)
        for index, column in enumerate(sheet.columns):
            self.sheet.set_column(index, index, column.width)
            self.sheet.write_string(0, index, _header(column, self.language), self.header)
        self.sheet.freeze_panes(1, 0)
        self.cells = [self._cell(xl_col_to_name(i), c) for i, c in enumerate(sheet.columns)]
        self.row = 1

    def _cell(self, letters: str, column: Column) -> Callable[[str, Any], str]:
        """How a value of ``column`` becomes a cell's XML, given its row's number."""
        if column.kind is Kind.NUMBER:
            return lambda n, value: f'<c r="{letters}{n}"><v>{value}</v></c>'
        if column.kind is Kind.TIME:
            style, days = self.time_style, excel_days(self.tz)
            return lambda n, value: f'<c r="{letters}{n}" s="{style}"><v>{days(value):.8f}</v></c>'
        if column.kind is Kind.FLAG:
            yes, no = FLAGS[self.language]
            return lambda n, value: (
                f'<c r="{letters}{n}" t="inlineStr"><is><t>{yes if value else no}</t></is></c>'
            )
        quoted = f' s="{self.quoted_style}"'

        def careful_cell(n: str, value: str) -> str:
            style = quoted if value.startswith(FORMULA_STARTS) else ""
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return (
                f'<c r="{letters}{n}"{style} t="inlineStr"><is><t{space}>'
                f"{_xml_text(value)}</t></is></c>"
            )

        def text_cell(n: str, value: str) -> str:
            # Most texts need none of the care: a few checks, then the cell as it is.
            if (
                value.startswith(FORMULA_STARTS)
                or value != value.strip()
                or len(value) > XLSX_TEXT_MAX
                or _XML_SPECIAL.search(value)
            ):
                return careful_cell(n, value)
            return f'<c r="{letters}{n}" t="inlineStr"><is><t>{value}</t></is></c>'

        return text_cell

    def write(self, row: Row) -> None:
        if self.row >= XLSX_ROWS_MAX:
            assert self.current is not None
            self._add_sheet(self.current)
        assert self.sheet is not None
        n = str(self.row + 1)
        cells = "".join(
            [
                cell(n, value)
                for cell, value in zip(self.cells, row, strict=True)
                if value is not None
            ]
        )
        self.sheet.append_row(self.row, len(self.cells) - 1, cells)
        self.row += 1

    def close(self) -> None:
        self.book.close()


class CsvFile:
    def __init__(self, path: Path, language: str, tz: ZoneInfo) -> None:
        # utf-8-sig: the byte order mark first.
        self.file = path.open("w", encoding="utf-8-sig", newline="")
        self.out = csv.writer(self.file, lineterminator="\r\n")
        self.language = language
        self.tz = tz
        self.cells: list[Callable[[Any], str]] = []
        self.sheets = 0

    def begin(self, sheet: Sheet) -> None:
        if self.sheets:
            # A CSV file has one table: a later sheet follows after an empty line and
            # its name.
            self.out.writerow([])
            self.out.writerow([csv_safe(_name(sheet, self.language))])
        self.sheets += 1
        self.out.writerow([csv_safe(_header(c, self.language)) for c in sheet.columns])
        self.cells = [self._cell(c) for c in sheet.columns]

    def _cell(self, column: Column) -> Callable[[Any], str]:
        tz = self.tz
        if column.kind is Kind.NUMBER:
            return str
        if column.kind is Kind.TIME:
            return lambda value: value.astimezone(tz).strftime(CSV_SHOWN_TIME)
        if column.kind is Kind.FLAG:
            yes, no = FLAGS[self.language]
            return lambda value: yes if value else no
        return csv_safe

    def write(self, row: Row) -> None:
        self.out.writerow(
            [
                "" if value is None else cell(value)
                for cell, value in zip(self.cells, row, strict=True)
            ]
        )

    def close(self) -> None:
        self.file.close()


def _name(sheet: Sheet, language: str) -> str:
    return sheet.name.zh if language == i18n.CHINESE else sheet.name.en


def _header(column: Column, language: str) -> str:
    return column.header.zh if language == i18n.CHINESE else column.header.en


FORMATS: dict[str, Callable[[Path, str, ZoneInfo], SheetFile]] = {
    "xlsx": XlsxFile,
    "csv": CsvFile,
}
