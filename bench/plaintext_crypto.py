"""Benchmark-only: eoi.crypto's ciphers replaced by pass-through ones, so that bench/deadline_rush.py can measure
the same run without encryption: the sealed content and the request body's spooled file parts (issue 9 asks that encryption cost at most 15 % of the throughput, both printed
in one run). Never imported by the application; the benchmark installs it in its own process (for seeding) and
in gunicorn's workers through this file used as a gunicorn config (`-c bench/plaintext_crypto.py`)."""
from __future__ import annotations

import io


class _PassThroughWriter:
    def __init__(self, out, key: bytes):
        self._out = out

    def write(self, data: bytes) -> int:
        return self._out.write(data)

    def close(self) -> None:
        pass


def install() -> None:
    from werkzeug.formparser import default_stream_factory

    import app.spool
    from eoi import crypto

    app.spool.encrypted_stream_factory = default_stream_factory  # the request body's file parts spooled in clear

    crypto.seal = lambda key, plaintext, aad: crypto.b64e(plaintext)
    crypto.unseal = lambda key, token, aad: crypto.b64d(token)
    crypto.seal_to = lambda public, plaintext, aad: crypto.b64e(plaintext)
    crypto.open_sealed = lambda private, token, aad: crypto.b64d(token)
    crypto.EncryptingWriter = _PassThroughWriter
    crypto.open_encrypted = lambda raw, key: io.BufferedReader(raw)


def post_fork(server, worker) -> None:  # gunicorn hook: each worker, before it loads the app
    install()
