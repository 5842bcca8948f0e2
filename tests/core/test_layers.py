"""The layers contract (pyproject.toml [tool.importlinter], docs/architecture.md):
the code keeps it, and it fails on an import up the layers, direct or through a
module in between."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bureau", "members", "reports", "web")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_code(tmp_path) -> Path:
    """The Python code and the contract alone (no templates, data or caches)."""
    ignore = shutil.ignore_patterns(
        "__pycache__", "templates", "static", "locale", "*.html", "*.txt"
    )
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(root: Path, module: str, statement: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{statement}\n")


def test_code_when_linted_keeps_every_import_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_copy_when_unchanged_keeps_every_import_contract(copy_of_code):
    # What the next test breaks is the copy's one added import, nothing else.
    assert _lint_imports(copy_of_code).returncode == 0


@pytest.mark.parametrize(
    ("module", "statement", "importer", "imported"),
    [
        # Records reaching into reports, as it did before its events.
        (
            "bureau.records.services.aggregate",
            "from reports.services.watches import watches_check  # noqa",
            "bureau.records",
            "reports",
        ),
        # The lowest layer reaching the highest: through any module in between.
        ("bureau.core.sql", "import web.views.lookup  # noqa", "bureau.core", "web"),
        # Settings load before the apps: importing one is refused too.
        ("bureau.settings", "import reports.models  # noqa", "bureau.settings", ""),
    ],
)
def test_contract_when_a_module_imports_upwards_fails_naming_it(
    copy_of_code, module, statement, importer, imported
):
    _add_import(copy_of_code, module, statement)
    result = _lint_imports(copy_of_code)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert module in result.stdout
    assert importer in result.stdout and imported in result.stdout


# What import-linter cannot see: a task sent by its name, a table written in SQL.
HIDDEN_UPWARD = re.compile(r"""["']reports\.tasks\.|\breports_[a-z]+\b""")
BELOW_REPORTS = ("bureau/core", "bureau/audit", "members", "bureau/records")
# Misuse detection reads reports_inquiry in SQL (read only, measured hot path);
# its move to reports is a follow-up written down in docs/architecture.md.
KNOWN_HIDDEN = {"bureau/audit/misuse_sql.py"}


def test_layers_below_reports_when_scanned_name_no_reports_task_or_table():
    found = []
    for folder in BELOW_REPORTS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in KNOWN_HIDDEN:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HIDDEN_UPWARD.search(line.split("#", 1)[0]):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
