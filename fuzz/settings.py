"""Settings of the server the fuzz run starts: Bureau's own, run as in production
(DEBUG off, so an error is what a client would get), with its Redis keys apart.

Celery messages and cache entries carry their own prefix, so nothing the run
queues can reach another process's worker, and fuzz/run.py deletes them all at
the end. No worker runs: no operation's answer waits for one.
"""

from bureau.settings import *  # noqa: F403
from bureau.settings import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS

REDIS_KEY_PREFIX = "bureau-fuzz"

DEBUG = False
CACHES["default"]["KEY_PREFIX"] = REDIS_KEY_PREFIX
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:"}
