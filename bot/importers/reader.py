"""Reading a CSV export robustly: bytes in, a header and numbered rows out.

Handles what real exports do: a UTF-8 byte-order mark, UTF-8 or Windows-1252/Latin-1 text,
UTF-16 from Excel's "Unicode text", `,` `;` or tab delimiters (detected from the header line),
quoted fields with newlines, CRLF or CR line ends, blank lines. Every row keeps the physical
line number where it starts, so error messages point at the line a person sees in an editor.

A file that cannot be read as a table at all (binary, empty, a ZIP, a stray quote that runs to
the end, an unknown delimiter) raises `ImportFileError`, and nothing is imported. A damaged
row in a readable file (a NUL byte, a cell longer than `MAX_CELL`) fails `check_cells` and is
rejected alone: the csv module's own field limit is raised so that it never refuses the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.importers.values import RowError

MAX_CELL = 131_072  # characters: the csv module's default field limit, now per row
DELIMITERS = (",", ";", "\t")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class ImportFileError(Exception):
    """The file cannot be imported at all; the message says why and what to do."""


@dataclass
class CsvTable:
    """A CSV file, checked from end to end, whose rows are parsed again as they are read.

    Rows are not kept in memory (100k rows of cells take hundreds of MB); `rows()` reads
    them from the decoded text each time.

    Attributes:
        headers: the header cells, stripped.
        count: how many non-blank data rows the file holds.
        delimiter: the detected delimiter.
        encoding: the encoding the text was decoded with.
    """

    headers: list[str]
    count: int
    text: str = field(repr=False)
    delimiter: str = ","
    encoding: str = "utf-8"
    name: str = "the file"
    _nul: bool | None = field(default=None, init=False, repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, cells) for each non-blank data row."""
        scan = _scan(self.text, self.delimiter, self.name)
        next(scan, None)  # the header
        return scan

    def check_cells(self, cells: list[str]) -> None:
        """Refuse a damaged row: a NUL byte, or a cell longer than `MAX_CELL` characters.

        Raises:
            RowError: naming the column, so the person can find the cell.
        """
        if not (self._has_nul or sum(map(len, cells)) > MAX_CELL):
            return  # the common case, at C speed
        for i, cell in enumerate(cells):
            if len(cell) > MAX_CELL or "\x00" in cell:
                column = self.headers[i] if i < len(self.headers) else f"column {i + 1}"
                column = column if len(column) <= 60 else column[:60] + "..."
                if "\x00" in cell:
                    raise RowError(
                        f"{column} holds a NUL byte (\\x00): the row is damaged, export it again"
                    )
                raise RowError(
                    f"{column} is {len(cell):,} characters long, over the {MAX_CELL:,} a cell "
                    "may hold (a quote opened and closed far later?)"
                )

    @property
    def _has_nul(self) -> bool:
        if self._nul is None:
            self._nul = "\x00" in self.text
        return self._nul


def read_csv(data: bytes, name: str = "the file") -> CsvTable:
    """Decode CSV bytes, find the delimiter and the header, and check every row parses.

    Args:
        data: the whole file.
        name: how to call the file in error messages.

    Raises:
        ImportFileError: the file is empty, binary, not decodable or not a delimited table.
    """
    text, encoding = decode(data, name)
    # Long cells are refused row by row (`check_cells`), never by the csv module for the file.
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    header_line = next((line for line in io.StringIO(text) if line.strip()), "")
    delimiter = detect_delimiter(header_line, name)
    headers: list[str] | None = None
    count, last_start, last_end = 0, 0, 0
    for start, cells, end in _scan(text, delimiter, name, with_end=True):
        if headers is None:
            headers = [cell.strip().lstrip("\ufeff") for cell in cells]
        else:
            count, last_start, last_end = count + 1, start, end
    if headers is None:
        raise ImportFileError(f"{name} is empty: export the data again.")
    if count and last_start != last_end:
        _check_quotes_closed(text, delimiter, last_start, name)
    return CsvTable(headers, count, text, delimiter, encoding, name)


def _scan(text: str, delimiter: str, name: str, with_end: bool = False) -> Iterator[Any]:
    """Non-blank rows as (start line, cells), or (start line, cells, end line) `with_end`."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield (start, cells, previous_end) if with_end else (start, cells)
    except csv.Error as exc:
        raise ImportFileError(
            f"{name} line {previous_end + 1}: {exc}. Check the quoting on that line."
        ) from exc


def decode(data: bytes, name: str = "the file") -> tuple[str, str]:
    """The file's text and the encoding used: UTF-8 (with or without BOM), UTF-16, else cp1252.

    Raises:
        ImportFileError: empty, a ZIP archive or another binary file.
    """
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            f"{name} is a ZIP archive (an Excel .xlsx workbook or a Chargebee export), not a "
            "CSV file: save the sheet as CSV, or unzip the export and import Subscriptions.csv."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{name} starts like UTF-16 text but is not: {exc}") from exc
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
    if not text.strip():
        raise ImportFileError(f"{name} is empty: export the data again.")
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        raise ImportFileError(
            f"{name} looks like a binary file, not CSV text: export the data as CSV and import that."
        )
    return text, encoding


def detect_delimiter(header_line: str, name: str = "the file") -> str:
    """The delimiter used by a header line: the most frequent of `,` `;` and tab outside quotes.

    Raises:
        ImportFileError: the header uses another separator, such as `|`.
    """
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the comma, listed first
    if counts[best]:
        return best
    for other in ("|", ":", "^", "~"):
        if other in outside:
            raise ImportFileError(
                f"{name} separates its columns with {other!r}, which I cannot read: export it "
                "with commas, semicolons or tabs between the columns."
            )
    return ","


def _check_quotes_closed(text: str, delimiter: str, start: int, name: str) -> None:
    """A quote opened on the last row and never closed swallows the rest of the file."""
    tail = "".join(io.StringIO(text, newline="").readlines()[start - 1 :])
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise ImportFileError(
                f'{name} line {start}: a quoted field opened here is never closed (a stray "?), '
                "so the rest of the file would be read as one cell. Fix the quote and retry."
            ) from exc
