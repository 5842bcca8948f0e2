"""docs/permissions.md shows the permission matrix exactly as the matrix test states
it: the doc cannot drift from what is enforced and tested.

Regenerate the doc's table after changing the matrix:
    .venv/bin/python -m tests.core.test_permissions_doc
"""

from __future__ import annotations

import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"
HEADER = ("method", "path", "whose", "m_adm", "upl", "anl", "b_adm", "comp", "aud",
          "anon", "k:up", "k:qry", "k:mon", "audited")  # fmt: skip


def render_matrix() -> str:
    from tests.core.test_permission_matrix import MATRIX

    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for method, path, whose, *statuses, audited in MATRIX:
        short = path.removeprefix("/api/v1")
        cells = [
            method,
            f"`{short}`",
            "–" if whose == "-" else whose,
            *map(str, statuses),
            "–" if audited == "-" else f"`{audited}`",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _doc_table(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def test_permissions_doc_when_compared_shows_the_tested_matrix():
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{DOC} lacks the {BEGIN}/{END} markers"
    assert _doc_table(text) == render_matrix(), (
        "docs/permissions.md differs from the matrix test: run "
        "`.venv/bin/python -m tests.core.test_permissions_doc` and review the diff"
    )


def rewrite_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(
        text[:start] + "\n" + render_matrix() + "\n" + text[end:], encoding="utf-8"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bureau.settings")
    django.setup()
    rewrite_doc()
    print(f"rewrote the matrix in {DOC}", file=sys.stderr)
