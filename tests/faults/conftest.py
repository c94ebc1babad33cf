"""The fault tests' private instance (tests/faults/stack.py), started once for the module and torn down after it,
and the table of figures they collect (printed at the end, and written to $FAULTS_REPORT when set)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.faults.stack import PrivatePostgres, PrivateRedis, Stack, free_port, make_env, migrate, seed

VENDORS = 60
FIGURES: list[dict] = []


def _mount_small_storage(path: Path) -> bool:
    """STORAGE_DIR on its own tmpfs (64 MB), so the full-disk test can fill it without touching the machine's disk."""
    path.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0777", "tmpfs", str(path)], capture_output=True)
    return run.returncode == 0


@pytest.fixture(scope="module")
def stack():
    from app import create_app
    from app.config import TestConfig

    tmp = Path(tempfile.mkdtemp(prefix="tenderbox-faults-"))
    tmp.chmod(0o755)
    pg, redis = PrivatePostgres(tmp), PrivateRedis(tmp)
    s = None
    try:
        pg.init()
        redis.start()
        env = make_env(tmp, pg, redis)
        s = Stack(tmp=tmp, pg=pg, redis=redis, env=env, web_port=free_port())
        s.storage_mounted = _mount_small_storage(Path(env["STORAGE_DIR"]))
        migrate(env)
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        config.update(
            SQLALCHEMY_DATABASE_URI=pg.url, STORAGE_DIR=Path(env["STORAGE_DIR"]), OUTBOX_DIR=Path(env["OUTBOX_DIR"]),
            AUDIT_SIGNING_KEY_FILE=Path(env["AUDIT_SIGNING_KEY_FILE"]),
            AUDIT_CHECKPOINT_FILE=Path(env["AUDIT_CHECKPOINT_FILE"]), SECRET_KEY=env["SECRET_KEY"],
            SEALING_KEY_FILE=Path(env["SEALING_KEY_FILE"]),
            CELERY={**TestConfig.CELERY, "broker_url": redis.url(0), "task_always_eager": False},
            RATELIMIT_STORAGE_URI="memory://", RENDER_LEASE_SECONDS=8, OUTBOX_GRACE_SECONDS=3,
            ORPHAN_MAX_AGE_SECONDS=5, STORAGE_LOW_FREE_BYTES=1024 * 1024, PUBLIC_URL="http://127.0.0.1")
        s.flask_app = create_app(config)
        seed(s, VENDORS)
        s.start_web()
        s.start_worker()
        s.start_beat()
        yield s
    finally:
        if s is not None:
            for process in (s.web, s.worker, s.beat):
                if process is not None:
                    process.stop()
            if s.flask_app is not None:
                from app.extensions import db
                with s.flask_app.app_context():
                    db.engine.dispose()
            if s.storage_mounted:
                subprocess.run(["umount", "-l", s.env["STORAGE_DIR"]], capture_output=True)
        redis.stop()
        pg.stop()
        _report()
        if not os.environ.get("FAULTS_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def _report() -> None:
    if not FIGURES:
        return
    lines = ["| fault | tries | lost | half-saved | time to recover |", "|---|---|---|---|---|"]
    lines += [f"| {f['fault']} | {f['tries']} | {f['lost']} | {f['half_saved']} | {f['recover']} |" for f in FIGURES]
    table = "\n".join(lines)
    print("\n\nFault tests (issue 7):\n" + table)
    if path := os.environ.get("FAULTS_REPORT"):
        Path(path).write_text(table + "\n")
