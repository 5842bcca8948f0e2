"""Local `.env` for `make demo` / `make test`: dev mode plus freshly generated secrets.

Never used in production: there every secret comes from the real environment.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = BASE_DIR / ".env"

SECRET_NAMES = (
    "DJANGO_SECRET_KEY",
    "BUREAU_API_KEY_PEPPER",
    "BUREAU_IDENTITY_KEY",
    "BUREAU_DEMO_PASSWORD",
)


def ensure_dev_env(path: Path = ENV_FILE) -> bool:
    """Write `.env` if missing; add any secret it lacks. Returns True if it changed."""
    lines = path.read_text().splitlines() if path.exists() else []
    present = {line.split("=", 1)[0] for line in lines if "=" in line}
    added = []
    if "BUREAU_ENV" not in present:
        added.append("BUREAU_ENV=dev")
    if "DJANGO_DEBUG" not in present:
        added.append("DJANGO_DEBUG=true")
    added += [
        f"{name}={secrets.token_urlsafe(18 if name == 'BUREAU_DEMO_PASSWORD' else 48)}"
        for name in SECRET_NAMES
        if name not in present
    ]
    if not added:
        return False
    header = (
        [] if lines else ["# Local development settings (generated; never commit)."]
    )
    path.write_text("\n".join(header + lines + added) + "\n")
    path.chmod(0o600)
    return True


if __name__ == "__main__":
    changed = ensure_dev_env()
    print(f"{ENV_FILE.name}: {'written' if changed else 'up to date'}", file=sys.stderr)
