"""The web pages name who may open them with the role groups the API uses.

`role_required(...)` takes a group of bureau/core/roles.py unpacked; a page that
spelled out its own tuple could drift from the API's rule for the same act.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bureau.core import roles as role_groups

WEB = Path(__file__).resolve().parents[2] / "web"
GROUPS = {
    name
    for name, value in vars(role_groups).items()
    if name.isupper() and isinstance(value, frozenset)
}


def _role_required_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "role_required"
        ):
            yield node


def _is_named_group(arg: ast.expr) -> bool:
    return (
        isinstance(arg, ast.Starred)
        and isinstance(arg.value, ast.Name)
        and arg.value.id in GROUPS
    )


def _imports_groups_from_core(tree: ast.AST, names: set[str]) -> bool:
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "bureau.core.roles"
        for alias in node.names
    }
    return names <= imported


def test_web_pages_when_restricted_by_role_use_the_core_role_groups():
    checked, offenders = 0, []
    for path in sorted(WEB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = set()
        for call in _role_required_calls(tree):
            checked += 1
            if (
                call.keywords
                or not call.args
                or not all(map(_is_named_group, call.args))
            ):
                offenders.append(f"{path.name}:{call.lineno}: {ast.unparse(call)}")
            else:
                used.update(arg.value.id for arg in call.args)
        if used and not _imports_groups_from_core(tree, used):
            offenders.append(f"{path.name}: {sorted(used)} not from bureau.core.roles")
    assert checked >= 10, "found too few role_required(...) pages"
    assert not offenders, "Pages with roles of their own:\n" + "\n".join(offenders)
