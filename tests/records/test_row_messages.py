"""Row-error and file-refusal messages: one registry of English templates, each
translated, and every message the checks give filled from one of them (so it
translates when shown, stored rows of any age included)."""

from __future__ import annotations

import ast
import gzip
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from bureau.records.fileformat import RowValidator, messages, open_rows, verify_file
from bureau.records.fileformat.errors import FileRejected
from bureau.records.fileformat.reader import detect_format
from bureau.records.services import merge
from tests.records.helpers import ID_A, ID_BAD_CHECKSUM, csv_bytes, good_row

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return messages.localize(text, gettext)


def test_every_template_when_shown_in_zh_hans_has_a_translation_with_its_params():
    with translation.override("zh-hans"):
        untranslated = [t for t in messages.MSGIDS if gettext(t) == t]
        placeholders_differ = [
            t
            for t in messages.MSGIDS
            if set(PLACEHOLDER.findall(gettext(t))) != set(PLACEHOLDER.findall(t))
        ]
    assert not untranslated, untranslated
    assert not placeholders_differ, placeholders_differ


def test_every_template_when_filled_parses_back_to_itself_and_its_params():
    for template in messages.TEMPLATES:
        names = PLACEHOLDER.findall(template)
        params = {name: f"<{name} {i}>" for i, name in enumerate(names)}
        text = messages.fill(template, **params) if names else template
        assert messages.parse(text) == (template, tuple(params.items())), template


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Is required.", "必填。"),
        ("Must be between 0 and 9999.", "须在 0 至 9999 之间。"),
        ("Row has 12 cells, header has 13.", "该行有 12 个单元格，表头有 13 列。"),
        ("Resident id check character is wrong.", "居民身份证号校验位错误。"),
        ("Must be a date in YYYY-MM-DD form.", "日期格式不正确，须为 YYYY-MM-DD。"),
        (
            "Must be one of current, overdue, default, written_off, settled, closed.",
            "须为以下值之一：current, overdue, default, written_off, settled, closed。",
        ),
    ],
)
def test_localize_when_zh_hans_fills_the_translation_with_the_stored_params(
    english, chinese
):
    assert zh(english) == chinese
    with translation.override("en"):
        assert messages.localize(english, gettext) == english


def test_localize_when_text_matches_no_template_shows_it_as_stored():
    assert zh("A wording of an older release.") == "A wording of an older release."


def test_localize_reason_when_file_refused_keeps_the_code_and_translates_detail():
    reason = (
        "encoding: Line 60412 is not valid utf-8 text: the file mixes encodings "
        "or is damaged. Save the whole file in one encoding (UTF-8 or GBK) and "
        "send it again."
    )
    with translation.override("zh-hans"):
        shown = messages.localize_reason(reason, gettext)
        strict = messages.localize_reason(
            "strict: 3 of 10 rows rejected; nothing was written (see the errors)",
            gettext,
        )
        unknown = messages.localize_reason("boom: not ours", gettext)
    assert shown.startswith("encoding：第 60412 行不是有效的 utf-8 文本")
    assert strict == "严格模式：10 行中有 3 行被拒绝，未写入任何数据（见被拒绝的行）"
    assert unknown == "boom: not ours"


# -- every message the checks give comes from the registry ------------------------

# Calls that take a check's message, and the position of that argument.
_MESSAGE_ARGS = {
    "RowError": 3,
    "fail": 2,
    "_unreadable": 2,
    "FileRejected": 1,
    "IdentityError": 1,
    "TooLarge": 0,
    "FileRefused": 0,
}
_SOURCES = (
    "bureau/records/fileformat/reader.py",
    "bureau/records/fileformat/validation.py",
    "bureau/records/fileformat/checks.py",
    "bureau/records/identity.py",
    "bureau/core/identity_shapes.py",
    "bureau/records/intake.py",
    "bureau/records/services/upload.py",
    "bureau/records/services/ingest.py",
    "bureau/records/tasks.py",
    "bureau/records/api/views.py",
)


def _sample(node: ast.expr, module: dict[str, object]) -> str | None:
    """The text an argument builds, every computed part replaced by "7"; None
    when it is a name of another module (a registry constant, say)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "7"
            for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left, module), _sample(node.right, module)
        return (left or "7") + (right or "7")
    if isinstance(node, ast.Name) and isinstance(module.get(node.id), str):
        return module[node.id]  # a module constant such as _MSG_PHONE
    return None


def _given_messages(path: str) -> list[tuple[int, str]]:
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    module: dict[str, object] = {}
    for node in tree.body:  # module-level string constants
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            value = _sample(node.value, {})
            if isinstance(target, ast.Name) and value is not None:
                module[target.id] = value
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        args = list(node.args)
        if name in _MESSAGE_ARGS and len(args) > _MESSAGE_ARGS[name]:
            args = [args[_MESSAGE_ARGS[name]]]
        else:
            args = []
        args += [k.value for k in node.keywords if k.arg == "reason"]
        for arg in args:
            text = _sample(arg, module)
            if text is not None:  # None: a registry constant, or a variable
                found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("path", _SOURCES)
def test_every_message_a_check_gives_when_read_from_source_matches_a_template(path):
    given = _given_messages(path)
    unknown = [
        (line, text)
        for line, text in given
        if messages.parse(text) is None and text != "7: 7"  # "<code>: <detail>"
    ]
    assert not unknown, f"{path}: add these to fileformat/messages.py: {unknown}"


def test_reaging_message_when_written_by_sql_is_the_registry_template():
    sql = re.sub(r"'\s*\n\s*'", "", merge._REAGING_ERRORS)
    assert f"'{messages.MSG_REAGING}'" in sql


# A row for each check of validation.py, and files for each of the reader's.
_BAD_VALUES = {
    "account_no": ["", "a b", "110105194912310021"],
    "id_type": ["", "card"],
    "id_number": ["", ID_BAD_CHECKSUM, "11010519491331002X", "123", "1101051949123"],
    "name": ["", "x" * 101, "a\x01b", ID_A],
    "role": ["boss"],
    "loan_type": ["", "pawn"],
    "status": ["", "late"],
    "classification": ["meh"],
    "currency": ["yuan"],
    "principal": ["", "abc", "-5", "1.234", "123456789012345"],
    "days_overdue": ["", "x", "10000"],
    "opened_on": ["", "2020-13-01"],
    "due_on": ["tomorrow"],
    "first_delinquency_on": ["soon"],
    "as_of": ["", "2999-01-01", "2000-01-01"],
    "phone": ["12345"],
    "payment_history": ["Q", "N" * 30],
    "action": ["drop"],
}


def _validator_messages() -> set[str]:
    validator = RowValidator(today=date.today())
    rows = [good_row(**{column: value}) for column, values in _BAD_VALUES.items()
            for value in values]  # fmt: skip
    rows += [
        good_row(status="current"),
        good_row(days_overdue="0"),
        good_row(status="settled"),
        good_row(amount_overdue="0"),
        good_row(opened_on="2999-01-01"),
        good_row(due_on="2000-01-01"),
        good_row(first_delinquency_on="2999-01-01"),
        good_row(first_delinquency_on="2000-01-01"),
        good_row(first_delinquency_on=""),
        good_row(id_type="uscc", id_number="91110000600037341A"),
        good_row(id_type="uscc", id_number="123"),
        good_row(id_type="passport", id_number="A!"),
        good_row(id_type="other", id_number="a b"),
        good_row(id_type="resident_id", id_number="1101051949123"),
        {**good_row(), "nickname": "x"},
    ]
    found = set()
    for number, row in enumerate(rows, start=1):
        _, errors = validator.validate(number, row)
        found.update(error.message for error in errors)
    return found


def _reader_messages() -> set[str]:
    header = ",".join(good_row()).encode() + b"\n"
    files = [
        ("csv", None, header + b'"a,b\n'),
        ("csv", None, header + b"a,b\n"),
        ("csv", "utf-8", header + "a,名字\n".encode("gbk")),
        ("csv", None, header + b"x" * (2 << 20) + b"\n"),
        ("jsonl", None, b"{nope\n"),
        ("jsonl", None, b"[1]\n"),
        ("jsonl", None, b'{"name": {"a": 1}, "x": 1}\n'),
    ]
    found = set()
    for fmt, encoding, data in files:
        for _, _, errors in open_rows(io.BytesIO(data), fmt=fmt, encoding=encoding):
            found.update(error.message for error in errors)
    return found


def _open(data: bytes, fmt: str = "csv", encoding: str | None = None):
    return list(open_rows(io.BytesIO(data), fmt=fmt, encoding=encoding))


def _verify(data: bytes, encoding: str | None = None, **limits):
    limits = {"max_text_bytes": 1 << 20, "max_rows": 5, **limits}
    return verify_file(io.BytesIO(data), fmt="csv", encoding=encoding, **limits)


def _refusals() -> set[str]:
    header = ",".join(good_row()).encode() + b"\n"
    row = csv_bytes([good_row()]).split(b"\n", 1)[1]
    attempts = [
        lambda: detect_format("x", None, b"[1]"),
        lambda: detect_format("x", None, b"\x00"),
        lambda: _open(b"a", fmt="xml"),
        lambda: _open(b"a", encoding="latin-1"),
        lambda: _open(b"\xff\xfea"),
        lambda: _open(b"  \n"),
        lambda: _open(b"a\x00b"),
        lambda: _open(b'"a\n'),
        lambda: _open(b"name,\xff\n", encoding="utf-8"),
        lambda: _open(b"a;b\n"),
        lambda: _open(b"x,y\n"),
        lambda: _open(header[:-1] + b",name\n"),
        lambda: _open(header[:-1] + b",,nick\n"),
        lambda: _open(b"account_no,name\n"),
        lambda: _open(gzip.compress(header + row)[:-12]),
        lambda: _verify(header + row, max_text_bytes=10),
        lambda: _verify(header + row * 3, max_rows=2),
        lambda: _verify(header + b"\x00\n"),
        lambda: _verify(header + "名字\n".encode("gbk"), encoding="utf-8"),
        lambda: _verify(header + row, sha256="0" * 64),
    ]
    found = set()
    for attempt in attempts:
        with pytest.raises(FileRejected) as refused:
            attempt()
        found.add(refused.value.detail)
        found.update(p for problems in refused.value.errors.values() for p in problems)
    return found


def test_every_message_when_the_checks_run_is_a_template_translated_to_zh_hans():
    given = _validator_messages() | _reader_messages() | _refusals()
    assert len(given) > 60  # the corpus reaches most checks
    unknown = sorted(text for text in given if messages.parse(text) is None)
    untranslated = sorted(text for text in given if zh(text) == text)
    assert not unknown, unknown
    assert not untranslated, untranslated
