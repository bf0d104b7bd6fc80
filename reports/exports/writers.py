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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from hotline import i18n
from reports.exports.sheets import Column, Kind, Row, Sheet

# What a spreadsheet program may take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_SHOWN_TIME = "%Y-%m-%d %H:%M"
XLSX_SHOWN_TIME = "yyyy-mm-dd hh:mm"
# Day 0 of Excel's dates (1900 system, with its leap-year quirk folded in).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
ONE_DAY = dt.timedelta(days=1)
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


class XlsxFile:
    def __init__(self, path: Path, language: str, tz: ZoneInfo) -> None:
        self.book = xlsxwriter.Workbook(
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
        self.time = self.book.add_format({"num_format": XLSX_SHOWN_TIME})
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.sheet: Worksheet | None = None
        self.cells: list[tuple[int, Callable[[int, int, Any], Any]]] = []
        self.row = 0

    def begin(self, sheet: Sheet) -> None:
        name = _SHEET_NAME_UNSAFE.sub(" ", _name(sheet, self.language))[:SHEET_NAME_MAX]
        self.sheet = self.book.add_worksheet(name)
        for index, column in enumerate(sheet.columns):
            self.sheet.set_column(index, index, column.width)
            self.sheet.write_string(0, index, _header(column, self.language), self.header)
        self.sheet.freeze_panes(1, 0)
        self.cells = [(i, self._cell(c)) for i, c in enumerate(sheet.columns)]
        self.row = 1

    def _cell(self, column: Column) -> Callable[[int, int, Any], Any]:
        assert self.sheet is not None
        sheet, tz = self.sheet, self.tz
        if column.kind is Kind.NUMBER:
            write_number: Callable[[int, int, Any], Any] = sheet.write_number
            return write_number
        if column.kind is Kind.TIME:
            time = self.time

            def write_time(row: int, col: int, value: dt.datetime) -> None:
                local = value.astimezone(tz).replace(tzinfo=None)
                sheet.write_number(row, col, (local - EXCEL_EPOCH) / ONE_DAY, time)

            return write_time
        if column.kind is Kind.FLAG:
            yes, no = FLAGS[self.language]
            return lambda row, col, value: sheet.write_string(row, col, yes if value else no)
        quoted, write_string = self.quoted, sheet.write_string

        def write_text(row: int, col: int, value: str) -> None:
            if value.startswith(FORMULA_STARTS):
                write_string(row, col, value, quoted)
            else:
                write_string(row, col, value)

        return write_text

    def write(self, row: Row) -> None:
        at = self.row
        for index, cell in self.cells:
            value = row[index]
            if value is not None:
                cell(at, index, value)
        self.row = at + 1

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
