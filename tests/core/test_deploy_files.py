"""Deployment files stay in step with the code: .env.example, compose, Dockerfile.

Pure file checks: no database, no Redis.
"""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
QUEUES = {"default", "ingest", "aggregate", "notify", "maintenance"}
# Read outside settings.py (os.environ in a management command).
EXTRA_ENV_NAMES = {"BUREAU_DEMO_PASSWORD"}
SECRET_NAMES = ("DJANGO_SECRET_KEY", "BUREAU_API_KEY_PEPPER", "BUREAU_IDENTITY_KEY")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Shadows the suite-wide cache reset: these tests touch no Redis."""
    yield


def _settings_env_names() -> set[str]:
    source = (ROOT / "bureau" / "settings.py").read_text()
    return set(re.findall(r"\benv\.\w+\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def _env_example() -> dict[str, str]:
    """Names documented in .env.example, set or commented out (`# NAME=value`)."""
    text = (ROOT / ".env.example").read_text()
    pairs = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE)
    return dict(pairs)


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _dockerfile_instructions() -> list[str]:
    """Dockerfile instructions with continuation lines joined, comments dropped."""
    lines = [
        line
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _command(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_settings_env_regex_when_parsing_settings_finds_known_names():
    names = _settings_env_names()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"} <= names


def test_env_example_when_settings_read_a_name_documents_it():
    missing = (_settings_env_names() | EXTRA_ENV_NAMES) - _env_example().keys()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_secrets_when_committed_are_placeholders():
    documented = _env_example()
    for name in SECRET_NAMES:
        assert documented[name].strip() == "change-me", name


def test_compose_when_loaded_defines_every_service():
    services = _compose()["services"]
    assert {"postgres", "redis", *APP_SERVICES} <= services.keys()


def test_compose_app_services_when_built_share_one_image():
    services = _compose()["services"]
    images = {services[name].get("image") for name in APP_SERVICES}
    builds = {repr(services[name].get("build")) for name in APP_SERVICES}
    assert images == {"bureau:local"}
    assert len(builds) == 1
    assert services["web"]["build"] is not None


def test_compose_web_when_starting_waits_for_migrate():
    depends_on = _compose()["services"]["web"]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_compose_worker_when_started_consumes_every_queue():
    command = _command(_compose()["services"]["worker"])
    queues = set(command[command.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues == QUEUES
    assert queues == set(settings.CELERY_WORKER_QUEUES.split(","))
    assert routed <= queues


def test_dockerfile_when_installing_uses_runtime_requirements_only():
    instructions = _dockerfile_instructions()
    runs = [line for line in instructions if line.startswith("RUN")]
    pip_installs = [line for line in runs if "pip install" in line]
    assert any("-r requirements.txt" in line for line in pip_installs)
    assert not any("requirements-dev" in line for line in instructions)


def _gunicorn_options(command: list[str]) -> dict[str, str]:
    at = command.index("bureau.wsgi")
    args = command[at + 1 :]
    return dict(zip(args[::2], args[1::2], strict=True))


def test_web_commands_when_starting_gunicorn_use_bureaus_log_config():
    """The image, compose and the demo run gunicorn with bureau/gunicorn_conf.py
    (access lines without query strings, masked) and override no log setting."""
    (cmd,) = [line for line in _dockerfile_instructions() if line.startswith("CMD")]
    demo = (ROOT / "bureau" / "demo.py").read_text()
    demo_args = re.search(r'"bureau\.wsgi",(.*?)\)', demo, flags=re.DOTALL).group(1)
    commands = {
        "Dockerfile": json.loads(cmd.removeprefix("CMD ")),
        "compose": _command(_compose()["services"]["web"]),
        "demo": ["bureau.wsgi", *re.findall(r'"([^"]+)"', demo_args)],
    }
    for where, command in commands.items():
        options = _gunicorn_options(command)
        assert options.get("--config") == "python:bureau.gunicorn_conf", where
        assert not {"--access-logfile", "--access-logformat", "--log-config"} & set(
            options
        ), where
