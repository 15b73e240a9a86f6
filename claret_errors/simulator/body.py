"""A request body as HTTP/1.1 frames it: by Content-Length or in chunks, never more than a size limit.

Kept apart from the handler so the framing rules (RFC 9112 section 6-7) read in one place. Refusals are
`BodyError`s carrying the status nginx in front of Laravel would answer with.
"""

from __future__ import annotations

import re
from email.message import Message
from io import BufferedIOBase

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
MAX_LINE = 4096  # a chunk-size line or trailer line longer than this is not a client we serve
MAX_TRAILERS = 64


class BodyError(Exception):
    """The body cannot be taken: answer `status` and close the connection, as the rest is unread."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_body(headers: Message, stream: BufferedIOBase, limit: int) -> bytes:
    """The body of a request with these headers, read from `stream`; BodyError when it cannot be taken."""
    coding = headers.get("Transfer-Encoding")
    if coding is None:
        raw = (headers.get("Content-Length") or "0").strip()
        if not raw.isdigit() or int(raw) > limit:
            raise BodyError(413, "Payload Too Large")
        return stream.read(int(raw)) if int(raw) > 0 else b""
    if headers.get("Content-Length") is not None:  # both: a request-smuggling shape, refused outright
        raise BodyError(400, "Bad Request")
    if coding.strip().lower() != "chunked":
        raise BodyError(501, "Not Implemented")
    return _read_chunked(stream, limit)


def _line(stream: BufferedIOBase) -> bytes:
    line = stream.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise BodyError(400, "Bad Request")
    return line.rstrip(b"\r\n")


def _read_chunked(stream: BufferedIOBase, limit: int) -> bytes:
    """Chunks up to the last (size 0) one, then its trailers, which are read and dropped."""
    parts: list[bytes] = []
    total = 0
    while True:
        size_field = _line(stream).split(b";", 1)[0].strip()  # chunk extensions are ignored
        if not _CHUNK_SIZE.fullmatch(size_field):
            raise BodyError(400, "Bad Request")
        size = int(size_field, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BodyError(413, "Payload Too Large")
        chunk = stream.read(size)
        if len(chunk) != size or _line(stream) != b"":
            raise BodyError(400, "Bad Request")
        parts.append(chunk)
    for _ in range(MAX_TRAILERS):
        if _line(stream) == b"":
            return b"".join(parts)
    raise BodyError(400, "Bad Request")
