"""Register workbooks as bytes: read one safely (XLSX or CSV) into rows and problems, write a
template or an export. In memory only: no file, no database.

Reading refuses, before any parsing, a file over MAX_BYTES, a file that is neither a workbook nor
a CSV, and a zip whose entries would unpack to more than MAX_UNPACKED bytes or at a ratio above
MAX_RATIO (a zip bomb): zipfile never unpacks more than an entry declares, so the declared sizes
bound what openpyxl reads. openpyxl reads in read-only mode (rows stream, memory stays bounded)
and with `data_only=False`, so that a formula is seen (and refused) rather than its cached value.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from yilian.core.i18n import N_
from yilian.directory.rules.workbook import (
    KINDS,
    SHEETS,
    Cell,
    Formula,
    Kind,
    Problem,
    Row,
    Sheet,
    cell_words,
    duplicate_problems,
    header_problems,
    read_row,
    sheet_named,
    sheet_of_headers,
    text_of,
)

MAX_BYTES: Final = 20 * 1024 * 1024
MAX_UNPACKED: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 200  # an XML sheet compresses ~10-50 times; a bomb thousands of times
RATIO_FROM: Final = 1024 * 1024  # small entries may compress as they like
MAX_ENTRIES: Final = 2000
MAX_ROWS: Final = 100_000  # a sheet's data rows (the benchmark's 20,000 practitioners fit five times)
MAX_PROBLEMS: Final = 1000  # past this many, reading stops (the file is far from right)
ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"  # the old .xls


class FileRefusal(ValueError):
    """The file as a whole is refused: `reason` is "too_large", "not_a_workbook" or "zip_bomb"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass
class Book:
    """What a workbook holds: each kind's rows that read, and every problem found."""

    rows: dict[Kind, list[Row]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    row_counts: dict[Kind, int] = field(default_factory=dict)  # data rows, read or not


def check_file(content: bytes, filename: str) -> str:
    """ "xlsx" or "csv", or FileRefusal: what may be parsed, decided before parsing."""
    if len(content) > MAX_BYTES:
        raise FileRefusal("too_large", N_("The file is larger than 20 MB."))
    if content.startswith(OLE_MAGIC):
        raise FileRefusal("not_a_workbook", N_("This is an old .xls file: save it as .xlsx and upload that."))
    if not content.startswith(ZIP_MAGIC):
        if filename.lower().endswith((".csv", ".txt")):
            return "csv"
        raise FileRefusal("not_a_workbook", N_("This file is not an Excel workbook (.xlsx) or a CSV file."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefusal(
            "not_a_workbook", N_("This file is not an Excel workbook (.xlsx) or a CSV file.")
        ) from None
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefusal("not_a_workbook", N_("This file is not an Excel workbook (.xlsx) or a CSV file."))
    unpacked = sum(e.file_size for e in entries)
    if (
        len(entries) > MAX_ENTRIES
        or unpacked > MAX_UNPACKED
        or any(
            e.file_size > RATIO_FROM and e.file_size > MAX_RATIO * max(e.compress_size, 1) for e in entries
        )
    ):
        raise FileRefusal(
            "zip_bomb", N_("This workbook would unpack to far more than it weighs: it is refused.")
        )
    return "xlsx"


def read_workbook(content: bytes, filename: str) -> Book:
    """The rows and problems of a register workbook (FileRefusal for a file refused as a whole)."""
    shape = check_file(content, filename)
    book = Book()
    if shape == "csv":
        _read_sheet(book, None, _csv_rows(content))
        return book
    import openpyxl  # the workbook library, loaded when a workbook is read

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise FileRefusal(
            "not_a_workbook", N_("This file is not an Excel workbook (.xlsx) or a CSV file.")
        ) from None
    try:
        for worksheet in workbook.worksheets:
            _read_sheet(book, str(worksheet.title), _xlsx_rows(worksheet))
    finally:
        workbook.close()
    for kind in KINDS:
        book.problems.extend(duplicate_problems(book.rows.get(kind, [])))
    return book


def _xlsx_rows(worksheet: Any) -> Iterator[list[Cell | Formula]]:
    # Values only (several times faster than cells): with data_only=False a formula's value is its
    # text, "=…", which _cell takes for the formula it is.
    for values in worksheet.iter_rows(values_only=True):
        yield [_cell(value) for value in values]


def _cell(value: object) -> Cell | Formula:
    if isinstance(value, str) and value.startswith("="):
        return Formula(value)
    if value is None or isinstance(value, str | int | float):
        return value
    from datetime import date

    if isinstance(value, date):  # also a datetime
        return value
    return str(value)


def _csv_rows(content: bytes) -> Iterator[list[Cell | Formula]]:
    try:
        words = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            words = content.decode("gb18030")
        except UnicodeDecodeError:
            raise FileRefusal(
                "not_a_workbook", N_("This CSV file is neither UTF-8 nor GB18030 text.")
            ) from None
    if "\x00" in words:
        raise FileRefusal("not_a_workbook", N_("This file is not an Excel workbook (.xlsx) or a CSV file."))
    for record in csv.reader(io.StringIO(words, newline="")):
        yield [_cell(value) for value in record]


def _read_sheet(book: Book, title: str | None, rows: Iterable[list[Cell | Formula]]) -> None:
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return  # an empty sheet (a blank "Sheet1" beside the data) says nothing
    headers = tuple("" if isinstance(c, Formula) else text_of(c) for c in first)
    sheet = (sheet_named(title) if title is not None else None) or sheet_of_headers(headers)
    if sheet is None:
        if not any(headers):
            return
        book.problems.append(
            Problem(
                title or "CSV",
                1,
                None,
                N_("this sheet is none of the registers: name it %(names)s, or give it a register's headers"),
                {"names": "、".join(s.name for s in SHEETS.values())},
            )
        )
        return
    if sheet.kind in book.rows:
        book.problems.append(Problem(sheet.name, None, None, N_("a second sheet of this register")))
        return
    if problems := header_problems(sheet, headers):
        book.problems.extend(problems)
        return
    found: list[Row] = book.rows.setdefault(sheet.kind, [])
    empty: list[int] = []  # empty rows so far: an error only if data follows them
    count = 0
    for number, cells in enumerate(iterator, start=2):
        if all(not isinstance(c, Formula) and text_of(c) == "" for c in cells):
            empty.append(number)
            continue
        count += 1
        if count > MAX_ROWS:
            book.problems.append(
                Problem(
                    sheet.name,
                    number,
                    None,
                    N_("more than %(limit)s rows: split the file"),
                    {"limit": MAX_ROWS},
                )
            )
            break
        for blank in empty:
            book.problems.append(
                Problem(sheet.name, blank, None, N_("an empty row between rows: delete it or fill it in"))
            )
        empty.clear()
        by_header = {h: c for h, c in zip(headers, cells, strict=False) if h}
        row, problems = read_row(sheet, number, by_header)
        book.problems.extend(problems)
        if row is not None:
            found.append(row)
        if len(book.problems) > MAX_PROBLEMS:
            break
    book.row_counts[sheet.kind] = count


# --- writing: the template, the export ------------------------------------------------------


def write_workbook(sheets: Iterable[tuple[Sheet, Iterable[Mapping[str, object]]]]) -> bytes:
    """An export: each sheet's headers and its rows (as the import reads them), streamed."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    for sheet, records in sheets:
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.append(list(sheet.headers))
        for record in records:
            cells = []
            for column in sheet.columns:
                cell = WriteOnlyCell(worksheet, value=cell_words(sheet, column.key, record.get(column.key)))
                cell.data_type = "s"  # text, never a formula (a name beginning with "=" stays a name)
                cells.append(cell)
            worksheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_template(kinds: Iterable[Kind]) -> bytes:
    """A template: headers (required ones marked in the comment row's style: bold), one example
    row, and a drop-down list for every column with a fixed list."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for kind in kinds:
        sheet = SHEETS[kind]
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.append(list(sheet.headers))
        worksheet.append([column.example for column in sheet.columns])
        for index, column in enumerate(sheet.columns, start=1):
            cell = worksheet.cell(row=1, column=index)
            cell.font = Font(bold=column.required)
            letter = cell.column_letter
            worksheet.column_dimensions[letter].width = max(12, 2 * len(column.header) + 4)
            worksheet.cell(row=2, column=index).data_type = "s"
            if column.choices:
                # Several roles are written 专科医生；门诊办: the list suggests, it does not refuse.
                several = column.key == "roles"
                rule = DataValidation(
                    type="list",
                    formula1='"' + ",".join(column.choices) + '"',
                    allow_blank=not column.required,
                    showErrorMessage=not several,
                    errorStyle="information" if several else "stop",
                )
                rule.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
                worksheet.add_data_validation(rule)
        worksheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
