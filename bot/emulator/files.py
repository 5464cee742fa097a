"""Files: sendDocument and sendPhoto uploads, file_id re-sends, getFile and reading bytes back.

A file reaches a method as an `UploadedFile` (a multipart part, over HTTP or in-process), as a
`file_id` string the emulator issued earlier, or as `attach://<part name>`. Telegram's limits
apply: uploads over 50 MB are refused with 413 before anything else, photos must be at most
10 MB, width + height at most 10000 and their ratio at most 20, no file may be empty, and a URL
cannot be fetched (the emulator has no internet). getFile hands out a `file_path` (only for
files up to 20 MB) that `/file/bot<token>/<file_path>` serves.

The driver reads back what the bot sent with `read(file_id)` and `content_of(message)`.
Simplification: Telegram re-encodes photos as JPEG and scales the smaller sizes; here every size
of a photo carries the uploaded bytes unchanged (only the sizes' width and height are scaled).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import mimetypes
import re
import struct
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from .component import Component
from .errors import ApiError, bad_request
from .html_entities import check_message_text
from .model import EmuMessage
from .params import Method, Params, json_param, str_param
from .validation import check_reply_markup

if TYPE_CHECKING:
    from .emulator import Emulator

FileKind = Literal["document", "photo"]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # multipart uploads; larger requests get 413
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses larger files
MAX_PHOTO_SIDES = 10000  # width + height
MAX_PHOTO_RATIO = 20
MAX_CAPTION = 1024
# Telegram keeps one photo in several sizes: boxes of these sides, then the photo itself.
PHOTO_BOXES = (90, 320, 800, 1280, 2560)

# Shaped like Telegram's (base64url, type-specific prefix), but only meaningful here.
_FILE_ID_PREFIX: dict[FileKind, str] = {"document": "BQACAgUAAxkDAAI", "photo": "AgACAgUAAxkDAAI"}
_UNIQUE_ID_PREFIX = "AgAD"
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
_ATTACH = "attach://"

TOO_LARGE = ApiError(413, "Request Entity Too Large")


class UploadedFile(bytes):
    """One multipart part as Telegram receives it: the bytes, with the part's file name and
    declared type. It is `bytes` (equal to its content), so code reading uploads as plain bytes
    keeps working."""

    filename: str | None
    content_type: str | None

    def __new__(cls, filename: str | None, content_type: str | None, data: bytes) -> UploadedFile:
        upload = super().__new__(cls, data)
        upload.filename = filename
        upload.content_type = content_type
        return upload

    @property
    def data(self) -> bytes:
        """The content as plain bytes."""
        return bytes(self)

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self)} bytes)"


@dataclass(eq=False)
class StoredFile:
    """A file on the emulated Telegram servers (a document, or one size of a photo)."""

    kind: FileKind
    file_unique_id: str
    data: bytes = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    # Set by the first getFile; the download route serves only paths handed out this way.
    file_path: str | None = None
    # A photo: all its sizes, smallest first (shared by each size); a document: just itself.
    sizes: list[StoredFile] = field(default_factory=list, repr=False)
    # Every file_id issued for this file, oldest first (one more with each message).
    file_ids: list[str] = field(default_factory=list)

    @property
    def file_size(self) -> int:
        """Bytes stored."""
        return len(self.data)


class Files(Component):
    """Files the bot uploaded, by file_id (a file gets a fresh file_id with every message)."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.files: dict[str, StoredFile] = {}
        self._unique_ids: set[str] = set()
        self._paths: dict[str, StoredFile] = {}
        self._ids = itertools.count(1)
        self._path_numbers = itertools.count(0)

    def methods(self) -> dict[str, Method]:
        return {
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
        }

    # ------------------------------------------------------------------ the Bot API side

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send(params, "document")

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send(params, "photo")

    async def _send(self, params: Params, kind: FileKind) -> dict[str, Any]:
        source = self._source(params, kind)
        caption, caption_entities = self._caption(params)
        markup = check_reply_markup(json_param(params, "reply_markup"))
        chat = self.emulator._chat_for_sending(params)
        if isinstance(source, UploadedFile):
            if not source.data:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                stored = self.store_photo(source.data)
            else:
                stored = self.store_document(source.data, source.filename, source.content_type)
        else:
            stored = self._by_reference(source, kind)
        extra: dict[str, Any] = {}
        if kind == "photo":
            extra["photo"] = [self._photo_size_to_api(size) for size in stored.sizes]
        else:
            extra["document"] = self._document_to_api(stored)
        if caption:
            extra["caption"] = caption
            if caption_entities:
                extra["caption_entities"] = caption_entities
        message = EmuMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            sender_id=self.emulator.bot.id,
            from_bot=True,
            date=int(time.time()),
            reply_markup=markup,
            kind=kind,
            extra=extra,
            history=[caption] if caption else [],
        )
        self.emulator.messages.setdefault(chat.id, []).append(message)
        result: dict[str, Any] = self.emulator._message_to_api(message)
        return result

    @staticmethod
    def _source(params: Params, kind: FileKind) -> UploadedFile | str:
        """The upload, or the file_id/URL string, that the `kind` parameter names."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith(_ATTACH):
            value = params.get(value[len(_ATTACH) :])
            if not isinstance(value, bytes):
                value = None  # attach:// must name an uploaded part
        if isinstance(value, bytes):
            if not isinstance(value, UploadedFile):
                value = UploadedFile(None, None, value)
            if len(value) > MAX_UPLOAD_BYTES:
                raise TOO_LARGE
            return value
        if not isinstance(value, str) or not value.strip():
            raise bad_request(f"there is no {kind} in the request")
        return value.strip()

    @staticmethod
    def _caption(params: Params) -> tuple[str, list[dict[str, Any]]]:
        raw = str_param(params, "caption")
        if not raw:
            return "", []
        # As the Bot API does: a parse_mode, when given, wins over caption_entities.
        parse_mode = str_param(params, "parse_mode") or None
        entities = None if parse_mode else json_param(params, "caption_entities")
        caption, parsed = check_message_text(
            raw, parse_mode, limit=MAX_CAPTION, what="message caption"
        )
        return caption, list(entities) if entities else parsed

    def _by_reference(self, reference: str, kind: FileKind) -> StoredFile:
        """A file sent again by its file_id (it gets a new file_id, the same file_unique_id)."""
        if _URL_RE.match(reference):
            raise bad_request("failed to get HTTP URL content")
        stored = self.files.get(reference)
        if stored is None:
            if reference in self._unique_ids:
                raise bad_request("wrong remote file identifier specified: wrong string length")
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        for size in stored.sizes:
            self._issue_id(size)
        return stored.sizes[-1]

    async def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = (str_param(params, "file_id") or "").strip()
        stored = self.files.get(file_id)
        if stored is None:
            if not file_id or file_id in self._unique_ids:
                raise bad_request("invalid file_id")
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        if stored.file_path is None:
            folder, suffix = ("photos", ".jpg") if stored.kind == "photo" else ("documents", "")
            if stored.kind == "document" and stored.file_name:
                suffix = PurePosixPath(stored.file_name).suffix
            stored.file_path = f"{folder}/file_{next(self._path_numbers)}{suffix}"
            self._paths[stored.file_path] = stored
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def download(self, token: str, file_path: str) -> StoredFile | None:
        """What `/file/bot<token>/<file_path>` serves (None: Telegram answers 404)."""
        if token != self.emulator.token:
            return None
        return self._paths.get(file_path)

    # ------------------------------------------------------------------ storing

    def store_document(
        self, data: bytes, file_name: str | None = None, content_type: str | None = None
    ) -> StoredFile:
        """Keep a document; its file_id is the newest key for it in `files`."""
        if not data:
            raise bad_request("file must be non-empty")
        name = PurePosixPath(file_name).name if file_name else None
        stored = StoredFile(
            kind="document",
            file_unique_id=self._new_unique_id(),
            data=data,
            file_name=name or None,
            mime_type=_mime_type(name, content_type),
        )
        stored.sizes = [stored]
        self._issue_id(stored)
        return stored

    def store_photo(self, data: bytes) -> StoredFile:
        """Keep a photo in Telegram's sizes; returns the largest (`.sizes` lists them all)."""
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_PHOTO_BYTES:
            raise bad_request(
                f"file of size {len(data)} bytes is too big for a photo; "
                f"the maximum size is {MAX_PHOTO_BYTES} bytes"
            )
        dimensions = image_size(data)
        if dimensions is None or min(dimensions) <= 0:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = dimensions
        if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * min(
            width, height
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[StoredFile] = []
        for size_width, size_height in photo_sizes(width, height):
            size = StoredFile(
                kind="photo",
                file_unique_id=self._new_unique_id(),
                data=data,
                mime_type="image/jpeg",
                width=size_width,
                height=size_height,
                sizes=sizes,
            )
            sizes.append(size)
            self._issue_id(size)
        return sizes[-1]

    def _issue_id(self, stored: StoredFile) -> str:
        """A new file_id for `stored` (Telegram's differ between messages for the same file)."""
        number = next(self._ids)
        digest = hashlib.sha256(f"{self.emulator.token}:{stored.kind}:{number}".encode()).digest()
        body = base64.urlsafe_b64encode(digest + digest[:12]).decode().rstrip("=")
        file_id = _FILE_ID_PREFIX[stored.kind] + body
        self.files[file_id] = stored
        stored.file_ids.append(file_id)
        return file_id

    def _new_unique_id(self) -> str:
        number = len(self._unique_ids) + 1
        digest = hashlib.sha256(f"{self.emulator.token}:unique:{number}".encode()).digest()
        unique_id = _UNIQUE_ID_PREFIX + base64.urlsafe_b64encode(digest[:9]).decode()
        self._unique_ids.add(unique_id)
        return unique_id

    def _document_to_api(self, stored: StoredFile) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": stored.file_ids[-1],
            "file_unique_id": stored.file_unique_id,
        }
        if stored.file_name:
            data["file_name"] = stored.file_name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        data["file_size"] = stored.file_size
        return data

    def _photo_size_to_api(self, stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_ids[-1],
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": stored.file_size,
        }

    # ------------------------------------------------------------------ reading back

    def read(self, file_id: str) -> bytes:
        """The bytes behind a file_id the emulator issued."""
        stored = self.files.get(file_id)
        if stored is None:
            raise KeyError(f"no file with file_id {file_id!r}")
        return stored.data

    def content_of(self, message: EmuMessage) -> tuple[str, bytes]:
        """(file name, bytes) of a message's document, or of its photo's largest size."""
        document = message.extra.get("document")
        if document is not None:
            return str(document.get("file_name") or "document"), self.read(document["file_id"])
        photo = message.extra.get("photo")
        if photo:
            return "photo.jpg", self.read(photo[-1]["file_id"])
        raise AssertionError(
            f"message {message.message_id} in chat {message.chat_id} carries no file"
        )


def _mime_type(file_name: str | None, content_type: str | None) -> str:
    """Telegram derives the type from the file name's extension, not the declared type."""
    if file_name:
        guessed = mimetypes.guess_type(file_name, strict=False)[0]
        if guessed:
            return guessed
    if content_type and "/" in content_type:
        return content_type.split(";", 1)[0].strip().lower()
    return "application/octet-stream"


def photo_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram keeps of a photo, smallest first: one per box the photo exceeds,
    then the photo itself (at most 2560 on its longer side)."""
    longest = max(width, height)
    sizes: list[tuple[int, int]] = []
    for box in PHOTO_BOXES:
        if longest <= box:
            sizes.append((width, height))
            break
        scale = box / longest
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    return sizes


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG, GIF, WebP or BMP header; None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return int(width), abs(int(height))
    return None


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first frame header (SOFn)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        position += 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            continue
        if marker == 0xD9:  # end of image before any frame
            return None
        (length,) = struct.unpack(">H", data[position : position + 2])
        if marker in _JPEG_FRAMES and position + 7 <= len(data):
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            return int(width), int(height)
        position += length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None
