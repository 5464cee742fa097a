"""Files end to end: the real bot uploads over HTTP, and the same bytes come back out.

Test-only commands (registered through `extra_setup`, before the fallback) make the bot send a
CSV document and a PNG photo with `context.bot`, and download a file again with getFile and
PTB's own `File.download_as_bytearray()` from the emulator's file route.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.emulator.harness import LiveBot, sqlite_url
from bot.services import AnyApplication

# A Thai CSV as a spreadsheet expects it: UTF-8 with a byte order mark.
CSV = "ชื่อ,อำเภอ,คะแนน\nสมชาย,เมืองปัตตานี,10\nมาลี,หนองจิก,9\n".encode("utf-8-sig")
CSV_NAME = "คะแนน.csv"
LAST_FILE_KEY = "test.last_file_id"


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x20\x90\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


PNG = _png(120, 80)


async def _send_test_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    sent = await context.bot.send_document(
        update.effective_chat.id, CSV, filename=CSV_NAME, caption="<b>คะแนน</b> ประจำเดือน"
    )
    assert sent.document is not None
    context.bot_data[LAST_FILE_KEY] = sent.document.file_id


async def _send_test_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_photo(update.effective_chat.id, PNG, caption="แผนที่")


async def _send_copy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the last document as any bot would, and send the bytes back as a new file."""
    assert update.effective_chat is not None
    file = await context.bot.get_file(context.bot_data[LAST_FILE_KEY])
    data = bytes(await file.download_as_bytearray())
    await context.bot.send_document(update.effective_chat.id, data, filename="copy.csv")


def _register_test_files(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("testfile", _send_test_file))
    app.add_handler(CommandHandler("testphoto", _send_test_photo))
    app.add_handler(CommandHandler("testcopy", _send_copy))


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    """The running bot with the test-only file commands; Telegram must refuse none of its calls."""
    bot = LiveBot(database_url=sqlite_url(tmp_path / "files.db"), extra_setup=_register_test_files)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    refused = [(c.method, c.description) for c in bot.emulator.calls if not c.ok]
    assert refused == [], f"the Bot API refused calls: {refused}"


async def test_a_document_the_bot_uploads_reads_back_byte_for_byte(live: LiveBot) -> None:
    user = live.user(3001, "สมชาย", language_code="th")
    [message] = await live.send(user, "/testfile")
    assert message.kind == "document"
    assert message.extra["caption"] == "คะแนน ประจำเดือน"
    name, data = live.emulator.files.content_of(message)
    assert (name, data) == (CSV_NAME, CSV)
    assert data.startswith(b"\xef\xbb\xbf")
    assert message.extra["document"]["mime_type"] == "text/csv"

    # The bot downloads it again through getFile and the file route, and re-uploads the bytes.
    [copy] = await live.send(user, "/testcopy")
    assert live.emulator.files.content_of(copy) == ("copy.csv", CSV)
    assert copy.extra["document"]["file_unique_id"] != message.extra["document"]["file_unique_id"]


async def test_a_photo_the_bot_uploads_reads_back(live: LiveBot) -> None:
    user = live.user(3002, "Malee", language_code="en")
    [message] = await live.send(user, "/testphoto")
    assert message.kind == "photo"
    assert [(p["width"], p["height"]) for p in message.extra["photo"]] == [(90, 60), (120, 80)]
    assert live.emulator.files.content_of(message) == ("photo.jpg", PNG)
    assert live.transcript.lines[-1] == "« bot: แผนที่"
