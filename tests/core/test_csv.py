"""CSV downloads: formula-safe cells, streamed after a header."""

from bureau.core.csv import csv_response, spreadsheet_safe


def test_cell_when_it_starts_like_a_formula_is_quoted():
    assert [spreadsheet_safe(v) for v in ("=1+1", "-2", "@x", "ok", None, 3)] == [
        "'=1+1",
        "'-2",
        "'@x",
        "ok",
        "",
        "3",
    ]


def test_response_when_rows_given_streams_header_then_every_row():
    response = csv_response("x.csv", ["a", "b"], iter([(1, "=x"), (2, "y")]))
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text == "\ufeffa,b\r\n1,'=x\r\n2,y\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
