"""Receiving an upload: the multipart body streamed to `<data>/uploads/<id>` chunk by chunk with a running byte
count (python-multipart's push parser), never held in memory or spooled to /tmp, so a 2 GB clip costs a few
kilobytes of RAM and the size limit holds while the bytes arrive (413 as soon as it is passed, and before any byte
when Content-Length already says so).

Fields: `file` (the clip, required), `exercise` (auto / hip_thrust / glute_bridge), `profile` (a rule-profile
TOML file), `video` (0 to skip the annotated video). The client's file name is kept as display text only.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

SMALL_FIELD_MAX_BYTES = 1024
PROFILE_MAX_BYTES = 256 * 1024
MULTIPART_SLACK_BYTES = 64 * 1024     # boundaries, part headers and the small fields on top of the clip
DRAIN_MAX_BYTES = 64 * 1024 * 1024    # after a 413, read at most this much more so the client sees the answer


class UploadError(Exception):
    """A bad upload: status and one-line message for the JSON answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    clip_name: str = ""
    size_bytes: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    profile: bytes | None = None
    got_file: bool = False


def display_name(raw: str) -> str:
    """The client's file name as display text: its last path part, printable characters only, at most 120."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable()).strip()
    return name[:120] or "clip"


def limit_message(max_bytes: int) -> str:
    return (f"the upload is bigger than this server's limit of {max_bytes // (1024 * 1024)} MB; trim the clip or "
            f"start the server with a larger --max-upload-mb")


class _Parser:
    """The python-multipart callbacks: one part at a time, the clip straight into its file."""

    def __init__(self, dest: Path, max_bytes: int) -> None:
        self.dest, self.max_bytes = dest, max_bytes
        self.up = Upload()
        self._hname = b""
        self._hval = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None
        self._buf = bytearray()
        self._fh = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hvalue,
                "on_header_end": self._hend, "on_headers_finished": self._hdone, "on_part_data": self._data,
                "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._part, self._buf = {}, None, bytearray()

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._hval += data[start:end]

    def _hend(self) -> None:
        self._headers[self._hname.lower()] = self._hval
        self._hname = self._hval = b""

    def _hdone(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        self._part = name
        if name == "file":
            if self.up.got_file:
                raise UploadError(400, "send one clip per upload (one `file` field)")
            self.up.got_file = True
            self.up.clip_name = display_name(params.get(b"filename", b"").decode("utf-8", "replace"))
            self._fh = open(self.dest, "wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._part == "file":
            self.up.size_bytes += n
            if self.up.size_bytes > self.max_bytes:
                raise UploadError(413, limit_message(self.max_bytes))
            self._fh.write(data[start:end])
        else:
            cap = PROFILE_MAX_BYTES if self._part == "profile" else SMALL_FIELD_MAX_BYTES
            if len(self._buf) + n > cap:
                raise UploadError(413, f"the field {self._part!r} is too long (at most {cap} bytes)")
            self._buf += data[start:end]

    def _end(self) -> None:
        if self._part == "file":
            self._fh.close()
            self._fh = None
        elif self._part == "profile":
            self.up.profile = bytes(self._buf) or None
        elif self._part:
            self.up.fields[self._part] = bytes(self._buf).decode("utf-8", "replace").strip()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


async def receive(request, dest: Path, max_bytes: int) -> Upload:
    """Stream the request's multipart body into `dest`. Raises UploadError (the partial file removed)."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise UploadError(415, "send the clip as multipart/form-data with the video in the field `file`")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes + MULTIPART_SLACK_BYTES:
        raise UploadError(413, limit_message(max_bytes))
    p = _Parser(dest, max_bytes)
    parser = MultipartParser(params[b"boundary"], p.callbacks())
    stream = request.stream()
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except UploadError as e:
        p.close()
        dest.unlink(missing_ok=True)
        if e.status == 413:   # read (and drop) a bounded rest, so the client gets the answer, not a reset
            drained = 0
            try:
                async for chunk in stream:
                    drained += len(chunk)
                    if drained > DRAIN_MAX_BYTES:
                        break
            except Exception:  # noqa: BLE001 - the client went away: nothing to answer
                pass
        raise
    except Exception as e:  # malformed multipart, client disconnect
        p.close()
        dest.unlink(missing_ok=True)
        raise UploadError(400, f"the upload was cut off or is not valid multipart ({type(e).__name__}); send it "
                               f"again") from None
    p.close()
    if not p.up.got_file:
        dest.unlink(missing_ok=True)
        raise UploadError(400, "no clip in the upload: send the video in the multipart field `file`")
    return p.up
