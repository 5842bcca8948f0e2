"""The settings mypy loads (django-stubs imports them to learn the models): the
real ones, with placeholders for what a deployment provides. Type checking then
needs no `.env`, database or Redis, and starts no embedded server
(bureau/settings.py does when DATABASE_URL or REDIS_URL is unset). Never served.
"""

import os

for _name, _value in {
    "DATABASE_URL": "postgres://typecheck@127.0.0.1:5432/typecheck",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SECRET_KEY": "typecheck",
    "BUREAU_API_KEY_PEPPER": "typecheck",
    "BUREAU_IDENTITY_KEY": "typecheck",
}.items():
    os.environ.setdefault(_name, _value)

from bureau.settings import *  # noqa: E402, F403
