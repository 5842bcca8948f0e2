"""Every string the Python code marks for translation is translated into zh-hans,
so none reaches a reader in English on a Chinese page or API answer.

The marks are read from the sources (a call of gettext, gettext_lazy, `_`,
gettext_noop, ngettext, pgettext, ... with a literal); each must come out of
Django's translation machinery, as a request in zh-hans would get it, different
from its msgid: translated by locale/zh_Hans (compiled), or by Django's or DRF's
own catalogue for their texts. A string that needs no translation is not marked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

PACKAGES = ("bureau", "members", "reports", "web")
# The argument positions of each marker: (context, msgid, plural).
MARKERS = {
    **dict.fromkeys(("gettext", "gettext_lazy", "gettext_noop", "_"), (None, 0, None)),
    **dict.fromkeys(("ngettext", "ngettext_lazy"), (None, 0, 1)),
    **dict.fromkeys(("pgettext", "pgettext_lazy"), (0, 1, None)),
    **dict.fromkeys(("npgettext", "npgettext_lazy"), (0, 1, 2)),
}


@dataclass(frozen=True)
class Marked:
    msgid: str
    plural: str | None
    context: str | None
    where: str


def _literal(call: ast.Call, index: int | None) -> str | None:
    if index is None or index >= len(call.args):
        return None
    arg = call.args[index]
    return (
        arg.value
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        else None
    )


@cache  # read once for both tests
def marked_strings() -> tuple[Marked, ...]:
    root = Path(settings.BASE_DIR)
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = (
                    func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                )
                if name not in MARKERS:
                    continue
                context_at, msgid_at, plural_at = MARKERS[name]
                msgid = _literal(node, msgid_at)
                if msgid is None:  # gettext(variable): a msgid marked elsewhere
                    continue
                found.append(
                    Marked(
                        msgid=msgid,
                        plural=_literal(node, plural_at),
                        context=_literal(node, context_at),
                        where=f"{path.relative_to(root)}:{node.lineno}",
                    )
                )
    return tuple(found)


def untranslated(marks: tuple[Marked, ...], language: str) -> list[Marked]:
    missing = []
    with translation.override(language):
        for mark in marks:
            if mark.context is not None and mark.plural is not None:
                text = translation.npgettext(mark.context, mark.msgid, mark.plural, 1)
            elif mark.context is not None:
                text = translation.pgettext(mark.context, mark.msgid)
            elif mark.plural is not None:
                text = translation.ngettext(mark.msgid, mark.plural, 1)
            else:
                text = translation.gettext(mark.msgid)
            if text == mark.msgid:
                missing.append(mark)
    return missing


def test_marked_strings_when_read_from_the_sources_are_found():
    """The reading finds what is there (or the next test would prove nothing)."""
    marks = {(mark.msgid, mark.where.split(":")[0]) for mark in marked_strings()}
    assert (
        "Only compliance staff may do this.",
        "bureau/records/services/disputes.py",
    ) in marks
    assert ("Some fields are invalid.", "bureau/core/errors.py") in marks
    assert len(marks) > 300


def test_every_marked_string_when_shown_in_chinese_is_translated():
    missing = untranslated(marked_strings(), "zh-hans")
    assert not missing, "no zh-hans translation in locale/zh_Hans:\n" + "\n".join(
        f"  {mark.where}: {mark.msgid!r}" for mark in missing
    )
