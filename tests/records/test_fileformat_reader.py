"""Reading furnishing files: formats, encodings, compression, headers, rows."""

import csv
import gzip
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bureau.records.fileformat.errors import FileRejected
from bureau.records.fileformat.reader import (
    COLUMNS,
    REQUIRED_COLUMNS,
    detect_format,
    open_rows,
)

ALICE = {
    "account_no": "L-2024/0001",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "name": "张三丰",
    "loan_type": "consumer",
    "principal": "10000.00",
    "balance": "2500.50",
    "amount_overdue": "0",
    "days_overdue": "0",
    "status": "current",
    "opened_on": "2024-01-15",
    "as_of": "2025-10-31",
}


def csv_bytes(rows, columns=COLUMNS, encoding="utf-8"):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode(encoding)


def read_all(data, fmt="csv", encoding=None):
    stream = open_rows(io.BytesIO(data), fmt=fmt, encoding=encoding)
    return stream, list(stream)


def rejection(data, fmt="csv", encoding=None):
    with pytest.raises(FileRejected) as info:
        read_all(data, fmt=fmt, encoding=encoding)
    return info.value


def only_values(rows):
    assert all(errors == [] for _, _, errors in rows)
    return [values for _, values, _ in rows]


# -- detect_format -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("march.csv", "csv"),
        ("MARCH.CSV.GZ", "csv"),
        ("march.jsonl", "jsonl"),
        ("march.ndjson.gz", "jsonl"),
        ("march.json", "jsonl"),
    ],
)
def test_detect_format_when_extension_is_known_uses_it(filename, expected):
    assert detect_format(filename, "application/octet-stream", b"") == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("text/csv; charset=gbk", "csv"), ("application/x-ndjson", "jsonl")],
)
def test_detect_format_when_no_extension_uses_content_type(content_type, expected):
    assert detect_format("upload", content_type, b"") == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'  \n{"account_no": "1"}\n', "jsonl"),
        (b"account_no,id_type\n", "csv"),
        (gzip.compress(b'{"a": 1}\n', mtime=0), "jsonl"),
    ],
)
def test_detect_format_when_nothing_declared_sniffs_content(head, expected):
    assert detect_format("upload.bin", None, head) == expected


@pytest.mark.parametrize("head", [b"PK\x03\x04\x00\x00binary", b"[1, 2]", b""])
def test_detect_format_when_unrecognised_raises_unsupported_format(head):
    with pytest.raises(FileRejected) as info:
        detect_format("upload.xlsx", "application/octet-stream", head)
    assert info.value.code == "unsupported_format"


def test_open_rows_when_format_is_unknown_raises_unsupported_format():
    assert rejection(b"a,b\n", fmt="xml").code == "unsupported_format"


# -- CSV: encodings and compression ---------------------------------------------


def test_csv_when_utf8_reads_values_by_column():
    stream, rows = read_all(csv_bytes([ALICE]))
    assert stream.encoding == "utf-8"
    assert stream.columns == list(COLUMNS)
    assert rows == [(1, {c: ALICE.get(c, "") for c in COLUMNS}, [])]


def test_csv_when_utf8_has_bom_strips_it_from_the_header():
    stream, rows = read_all(b"\xef\xbb\xbf" + csv_bytes([ALICE]))
    assert stream.columns[0] == "account_no"
    assert only_values(rows)[0]["name"] == "张三丰"


def test_csv_when_gbk_is_declared_decodes_chinese_names():
    stream, rows = read_all(csv_bytes([ALICE], encoding="gbk"), encoding="gbk")
    assert stream.encoding == "gbk"
    assert only_values(rows)[0]["name"] == "张三丰"


def test_csv_when_gbk_is_not_declared_detects_it():
    stream, rows = read_all(csv_bytes([ALICE], encoding="gbk"))
    assert stream.encoding == "gbk"
    assert only_values(rows)[0]["name"] == "张三丰"


def test_csv_when_gbk_appears_after_the_first_block_detects_it():
    ascii_rows = [dict(ALICE, name="Alice", account_no=f"A{i}") for i in range(2000)]
    data = csv_bytes([*ascii_rows, ALICE], encoding="gbk")
    assert len(data) > 2 * 65536
    stream, rows = read_all(data)
    assert stream.encoding == "gbk"
    assert only_values(rows)[-1]["name"] == "张三丰"


def test_csv_when_gzip_compressed_reads_rows_and_counts_compressed_bytes():
    data = gzip.compress(csv_bytes([ALICE, ALICE]))
    stream, rows = read_all(data)
    assert [number for number, _, _ in rows] == [1, 2]
    assert stream.bytes_read == len(data)


def test_csv_when_a_line_does_not_decode_reports_encoding_and_goes_on():
    good = csv_bytes([ALICE], encoding="gbk")
    bad = b"L-2,resident_id,\xff\xfe" + b",x" * 17 + b"\n"
    data = good + bad + good.split(b"\n", 1)[1]
    _, rows = read_all(data, encoding="gbk")
    assert [(n, values is None) for n, values, _ in rows] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert rows[1][2][0].code == "encoding"
    assert rows[1][2][0].column == ""


def test_csv_when_header_does_not_decode_raises_encoding():
    data = b"account_no\xff," + ",".join(COLUMNS[1:]).encode() + b"\n"
    assert rejection(data, encoding="utf-8").code == "encoding"


def test_csv_when_utf16_raises_encoding():
    assert rejection(",".join(COLUMNS).encode("utf-16")).code == "encoding"


def test_open_rows_when_encoding_is_unsupported_raises_encoding():
    assert rejection(csv_bytes([ALICE]), encoding="latin-1").code == "encoding"


def test_csv_when_gzip_is_truncated_raises_invalid_format():
    data = gzip.compress(csv_bytes([ALICE] * 50))[:-20]
    assert rejection(data).code == "invalid_format"


# -- CSV: header ---------------------------------------------------------------


def test_csv_when_header_has_unknown_column_raises_unknown_columns():
    error = rejection(csv_bytes([ALICE], columns=(*COLUMNS, "nickname")))
    assert error.code == "unknown_columns"
    assert error.errors == {"columns": ["unknown column: nickname"]}


def test_csv_when_first_row_is_data_never_echoes_identity_numbers():
    data = csv_bytes([ALICE], columns=(*REQUIRED_COLUMNS, "11010519491231002X"))
    error = rejection(data)
    assert error.code == "unknown_columns"
    assert "11010519491231002X" not in json.dumps(error.errors)


def test_csv_when_header_lacks_required_column_raises_missing_columns():
    columns = tuple(c for c in COLUMNS if c != "balance")
    error = rejection(csv_bytes([ALICE], columns=columns))
    assert error.code == "missing_columns"
    assert error.errors == {"columns": ["missing column: balance"]}


def test_csv_when_header_names_a_column_twice_raises_invalid_format():
    error = rejection(csv_bytes([ALICE], columns=(*COLUMNS, "Name")))
    assert error.code == "invalid_format"


def test_csv_when_header_is_full_width_upper_case_normalises_it():
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "ACCOUNT_NO")
    columns = [f" {full_width} ", *COLUMNS[1:]]
    stream, rows = read_all(csv_bytes([], columns=columns) + b"A1" + b",x" * 19 + b"\n")
    assert stream.columns[0] == "account_no"
    assert only_values(rows)[0]["account_no"] == "A1"


def test_csv_when_semicolon_separated_raises_invalid_format():
    assert rejection(";".join(COLUMNS).encode() + b"\n").code == "invalid_format"


@pytest.mark.parametrize("data", [b"", b"  \r\n\n  ", gzip.compress(b"", mtime=0)])
def test_csv_when_file_is_empty_raises_empty_file(data):
    assert rejection(data).code == "empty_file"


def test_csv_when_header_only_yields_no_rows():
    stream, rows = read_all(csv_bytes([]))
    assert rows == []
    assert stream.columns == list(COLUMNS)


# -- CSV: rows -----------------------------------------------------------------


def test_csv_when_row_has_wrong_cell_count_reports_invalid_format():
    data = (
        csv_bytes([ALICE]) + b"A2,resident_id\n" + csv_bytes([ALICE]).split(b"\n", 1)[1]
    )
    _, rows = read_all(data)
    number, values, errors = rows[1]
    assert (number, values) == (2, None)
    assert [(e.code, e.column, e.message) for e in errors] == [
        ("invalid_format", "", f"Row has 2 cells, header has {len(COLUMNS)}.")
    ]
    assert rows[2][0] == 3


def test_csv_when_blank_lines_between_rows_skips_and_does_not_number_them():
    body = csv_bytes([ALICE]).split(b"\n", 1)[1]
    data = csv_bytes([ALICE]) + b"\r\n\n" + b"," * (len(COLUMNS) - 1) + b"\n" + body
    _, rows = read_all(data)
    assert [number for number, _, _ in rows] == [1, 2]


def test_csv_when_value_is_quoted_keeps_newlines_and_commas():
    name = 'Li, "Lucky"\r\nSecond line'
    _, rows = read_all(csv_bytes([dict(ALICE, name=name)]))
    assert only_values(rows)[0]["name"] == name


def test_csv_when_quote_is_never_closed_reports_invalid_format():
    data = csv_bytes([]) + b'A1,"unterminated\n'
    _, rows = read_all(data)
    assert [(n, v, e[0].code) for n, v, e in rows] == [(1, None, "invalid_format")]


def test_csv_when_a_line_is_over_one_mib_reports_invalid_format_and_goes_on():
    long_row = b"A1," + b"x" * (2 << 20) + b"\n"
    data = csv_bytes([]) + long_row + csv_bytes([ALICE]).split(b"\n", 1)[1]
    _, rows = read_all(data)
    assert [(n, v is None) for n, v, _ in rows] == [(1, True), (2, False)]
    assert rows[0][2][0].code == "invalid_format"
    assert "longer than" in rows[0][2][0].message


text_values = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(text_values, min_size=3, max_size=3), min_size=1, max_size=5))
def test_csv_when_written_by_csv_module_round_trips_any_text(cells):
    columns = ("account_no", "name", "payment_history", *REQUIRED_COLUMNS[1:])
    columns = tuple(dict.fromkeys(columns))
    rows = [
        dict(zip(("account_no", "name", "payment_history"), row, strict=True))
        for row in cells
    ]
    rows = [row for row in rows if any(row.values())]  # all-empty rows are skipped
    _, read = read_all(csv_bytes(rows, columns=columns))
    assert [values for _, values, _ in read] == [
        {c: row.get(c, "") for c in columns} for row in rows
    ]


# -- JSON Lines ------------------------------------------------------------------


def jsonl_bytes(*lines):
    return "\n".join(
        line if isinstance(line, str) else json.dumps(line) for line in lines
    ).encode()


def test_jsonl_when_numbers_are_given_keeps_their_text():
    data = (
        b'{"principal": 10000.50, "days_overdue": 35, "balance": 1e3, "phone": null}\n'
    )
    _, rows = read_all(data, fmt="jsonl")
    assert only_values(rows) == [
        {"principal": "10000.50", "days_overdue": "35", "balance": "1e3", "phone": ""}
    ]


def test_jsonl_when_gzip_compressed_reads_objects():
    data = gzip.compress(jsonl_bytes(ALICE, ALICE))
    stream, rows = read_all(data, fmt="jsonl")
    assert only_values(rows) == [ALICE, ALICE]
    assert stream.bytes_read == len(data)


def test_jsonl_when_gbk_detected_decodes_chinese_names():
    data = jsonl_bytes(json.dumps(ALICE, ensure_ascii=False)).decode().encode("gbk")
    stream, rows = read_all(data, fmt="jsonl")
    assert stream.encoding == "gbk"
    assert only_values(rows)[0]["name"] == "张三丰"


def test_jsonl_when_key_is_unknown_reports_unknown_column_per_key():
    _, rows = read_all(
        jsonl_bytes(dict(ALICE, nickname="Al", id_no="11010519491231002X")), fmt="jsonl"
    )
    _, values, errors = rows[0]
    assert values is None
    assert [(e.code, e.column) for e in errors] == [
        ("unknown_column", "nickname"),
        ("unknown_column", "id_no"),
    ]
    assert "11010519491231002X" not in repr(errors)


@pytest.mark.parametrize(
    "line",
    [
        "[1, 2]",
        '"text"',
        "{not json",
        '{"principal": NaN}',
        '{"name": true}',
        '{"name": {"a": 1}}',
    ],
)
def test_jsonl_when_line_is_not_a_flat_object_reports_invalid_format(line):
    _, rows = read_all(jsonl_bytes(line, ALICE), fmt="jsonl")
    assert rows[0][1] is None
    assert rows[0][2][0].code == "invalid_format"
    assert rows[1] == (2, ALICE, [])


def test_jsonl_when_blank_lines_skips_and_does_not_number_them():
    data = b"\n  \n" + jsonl_bytes(ALICE, "", "   ", ALICE) + b"\n\n"
    _, rows = read_all(data, fmt="jsonl")
    assert [number for number, _, _ in rows] == [1, 2]


def test_jsonl_when_missing_keys_leaves_them_to_validation():
    _, rows = read_all(jsonl_bytes({"account_no": "A1"}), fmt="jsonl")
    assert rows == [(1, {"account_no": "A1"}, [])]


def test_jsonl_when_file_is_blank_raises_empty_file():
    assert rejection(b"\n\n   \n", fmt="jsonl").code == "empty_file"
