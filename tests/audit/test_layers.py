"""Audit sits below members: it describes actors through bureau/core/actors.py and
imports nothing of members (nor of any app above it), not even inside a function,
its HTTP endpoints included (roles and the permission class are bureau/core's)."""

import ast
from pathlib import Path

import bureau.audit

ABOVE_AUDIT = ("members", "bureau.records", "reports", "web")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_audit_when_imported_reaches_no_app_above_it():
    root = Path(bureau.audit.__file__).parent
    upward = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        if "migrations" not in path.relative_to(root).parts
        for name in _imports(path)
        if name.split(".")[0] in ABOVE_AUDIT or name.startswith(ABOVE_AUDIT)
    }
    assert upward == set()
