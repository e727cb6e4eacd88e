"""The server secret: it signs action links, derives webhook signing secrets and the
audit chain's key, and fingerprints the deployment (never stored in the database)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from watchbill.settings import Settings

SECRET_FILE = "secret_key"


def server_key(settings: Settings) -> bytes:
    """WATCHBILL_SECRET_KEY, or the key generated at first use in the data directory.

    The generated key is created atomically with mode 0600, so two processes starting
    together agree on one key and nobody else on the machine can read it. Servers that
    share a PostgreSQL database on several machines must set the variable, or each
    machine would sign with a key the others do not know.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / SECRET_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written aside, then hard-linked into place: the link either creates the file
    # whole or fails because another process already did, so nobody reads it half-made.
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    finally:
        os.unlink(aside)
    return _read(path)


def _read(path: Path) -> bytes:
    value = path.read_text().strip()
    if len(value) < 32:
        raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
    return value.encode()
