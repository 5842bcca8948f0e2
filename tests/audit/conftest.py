"""Audit tests write checkpoints to a directory of their own, never to the
default one under the data dir (which a laptop's `make demo` fills)."""

import pytest


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.BUREAU_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.BUREAU_AUDIT_CHECKPOINT_DIR
