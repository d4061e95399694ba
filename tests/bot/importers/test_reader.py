"""Reading CSV bytes: encodings, delimiters, quoted newlines, line numbers, unreadable files."""

from __future__ import annotations

import codecs

import pytest

from bot.importers.reader import ImportFileError, read_csv


def test_bom_is_stripped_from_the_first_header():
    table = read_csv(codecs.BOM_UTF8 + b"customer_id,email\ncus_1,a@example.com\n")
    assert table.headers == ["customer_id", "email"]
    assert list(table.rows()) == [(2, ["cus_1", "a@example.com"])]


def test_semicolon_delimiter_is_detected_from_the_header():
    table = read_csv(b"customer_id;email;amount\ncus_1;a@example.com;19,90\n")
    assert table.delimiter == ";"
    assert list(table.rows())[0][1] == ["cus_1", "a@example.com", "19,90"]


def test_tab_delimiter_is_detected_and_commas_inside_values_stay():
    table = read_csv(b"name\temail\nDoe, Jane\tj@example.com\n")
    assert table.delimiter == "\t"
    assert list(table.rows())[0][1] == ["Doe, Jane", "j@example.com"]


def test_quoted_newlines_keep_the_following_line_numbers_right():
    data = (
        b"customer_id,note\n"
        b'cus_1,"first line\nsecond line\nthird line"\n'
        b"cus_2,plain\n"
        b"\n"
        b'cus_3,"x\r\ny"\r\n'
        b"cus_4,last\n"
    )
    table = read_csv(data)
    assert [(line, cells[0]) for line, cells in table.rows()] == [
        (2, "cus_1"),
        (5, "cus_2"),
        (7, "cus_3"),
        (9, "cus_4"),
    ]
    assert list(table.rows())[0][1][1] == "first line\nsecond line\nthird line"


def test_latin1_bytes_are_read_as_windows_1252():
    table = read_csv("name,email\nJosé Núñez,jose@example.com\n".encode("cp1252"))
    assert table.encoding == "cp1252"
    assert list(table.rows())[0][1][0] == "José Núñez"


def test_utf8_is_preferred_when_the_bytes_are_valid_utf8():
    table = read_csv("name,email\nZoë Müller,z@example.com\n".encode())
    assert table.encoding == "utf-8"
    assert list(table.rows())[0][1][0] == "Zoë Müller"


def test_utf16_from_excel_unicode_text_is_read():
    table = read_csv("name\temail\nLéa\tl@example.com\n".encode("utf-16"))
    assert list(table.rows()) == [(2, ["Léa", "l@example.com"])]


def test_blank_lines_and_rows_of_empty_cells_are_skipped_but_counted():
    table = read_csv(b"\n\ncustomer_id,email\n,\n\ncus_1,a@example.com\n")
    assert table.headers == ["customer_id", "email"]
    assert list(table.rows()) == [(6, ["cus_1", "a@example.com"])]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n  \r\n", "empty"),
        (codecs.BOM_UTF8, "empty"),
        (b"customer_id|email|status\ncus_1|a@example.com|active\n", "'|'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (bytes(range(1, 32)) * 20, "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
    ],
    ids=["zero-bytes", "whitespace", "bom-only", "pipe-delimiter", "png", "control-chars", "zip"],
)
def test_unreadable_files_are_refused_with_the_reason(data: bytes, reason: str):
    with pytest.raises(ImportFileError, match=reason):
        read_csv(data, name="export.csv")


def test_a_quote_never_closed_is_refused_with_its_line():
    data = b'customer_id,note\ncus_1,ok\ncus_2,"runs away\ncus_3,lost\ncus_4,lost\n'
    with pytest.raises(ImportFileError, match=r"line 3: a quoted field .* never closed"):
        read_csv(data)
