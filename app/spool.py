"""Where an uploaded file waits while the request body is parsed, encrypted (issue 9, property 1).

Werkzeug parses a multipart body before the view runs, and spools each file part over 500 KB to a temporary file:
the plaintext of a sealed proposal's file would reach the disk (unlinked, but written) before eoi.sealed encrypts
it. EncryptedSpool is that temporary file, AES-256-CTR under a key made for this one file and kept in memory only.
It reads back in plain, with seek and tell, as a file would (CTR gives random access); the key dies with the
request. Small parts stay in memory, as before.
"""
from __future__ import annotations

import io
import os
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

IN_MEMORY = 500 * 1024  # as werkzeug's default: below this a part never touches the disk
_BLOCK = 16


class EncryptedSpool(io.RawIOBase):
    """A read/write temporary file whose bytes on disk are AES-CTR ciphertext (in memory below IN_MEMORY)."""

    def __init__(self, in_memory: int = IN_MEMORY):
        super().__init__()
        self._key, self._nonce = os.urandom(32), int.from_bytes(os.urandom(16), "big")
        self._limit, self._memory, self._file, self._pos = in_memory, io.BytesIO(), None, 0

    def _cipher(self, offset: int):
        counter = (self._nonce + offset // _BLOCK) % (1 << 128)
        context = Cipher(algorithms.AES(self._key), modes.CTR(counter.to_bytes(16, "big"))).encryptor()
        context.update(bytes(offset % _BLOCK))  # skip to the byte within the block
        return context

    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if self._file is None and self._memory.tell() + len(data) > self._limit:
            self._file = tempfile.TemporaryFile()
            plain = self._memory.getvalue()
            self._file.write(self._cipher(0).update(plain))
            self._memory = None
        if self._file is None:
            self._memory.seek(self._pos)
            self._memory.write(data)
        else:
            self._file.seek(self._pos)
            self._file.write(self._cipher(self._pos).update(data))
        self._pos += len(data)
        return len(data)

    def readinto(self, buffer) -> int:
        if self._file is None:
            self._memory.seek(self._pos)
            n = self._memory.readinto(buffer)
        else:
            self._file.seek(self._pos)
            encrypted = self._file.read(len(buffer))
            n = len(encrypted)
            buffer[:n] = self._cipher(self._pos).update(encrypted)
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._size()
        self._pos = max(0, offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def _size(self) -> int:
        if self._file is None:
            return len(self._memory.getbuffer())
        return os.fstat(self._file.fileno()).st_size

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._key = b""
        super().close()


def encrypted_stream_factory(total_content_length, content_type, filename, content_length=None):
    """werkzeug's stream factory, encrypted (app.forms.Request uses it for every file part)."""
    return io.BufferedRandom(EncryptedSpool())
