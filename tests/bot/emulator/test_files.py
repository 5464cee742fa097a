"""sendDocument, sendPhoto, getFile and downloads, through python-telegram-bot 22.8's `Bot`.

In-process (`InProcessRequest`) and over HTTP (`EmulatorServer`): the upload keeps its file
name and type, a re-send by file_id is the same file, the limits and their wording are
Telegram's, and the bytes read back (by the driver, or by PTB's own download) are the upload.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageEntity
from telegram.constants import ParseMode
from telegram.error import Forbidden, NetworkError

from bot.emulator.emulator import Emulator
from bot.emulator.files import (
    MAX_PHOTO_BYTES,
    MAX_UPLOAD_BYTES,
    UploadedFile,
    image_size,
    photo_sizes,
)
from bot.emulator.model import EmuUser
from bot.emulator.server import EmulatorServer

from .support import refused

CSV = "\ufeffชื่อ,คะแนน\nสมชาย,10\n".encode()  # UTF-8 with a BOM


def png(width: int, height: int) -> bytes:
    """A real, tiny RGB PNG (no Pillow): signature, IHDR, one IDAT, IEND."""
    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def png_header(width: int, height: int, padding: int = 0) -> bytes:
    """Just a PNG's header: enough for the dimension checks, without drawing the pixels."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + b"\x00" * padding


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def last_error(emu: Emulator) -> str:
    """Telegram's exact description of the newest call, which must have failed."""
    call = emu.calls[-1]
    assert not call.ok, f"{call.method} succeeded"
    assert call.description is not None
    return call.description


# ------------------------------------------------------------------ sendDocument


async def test_document_from_bytes_keeps_name_type_and_bytes(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    sent = await bot.send_document(user.id, CSV, filename="รายงาน.csv")
    document = sent.document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "รายงาน.csv",
        "text/csv",
        len(CSV),
    )
    assert document.file_id.startswith("BQAC") and len(document.file_unique_id) == 16
    assert sent.caption is None and sent.text is None
    message = emu.last_sent(user.id)
    assert message.kind == "document"
    assert emu.files.content_of(message) == ("รายงาน.csv", CSV)
    assert emu.files.read(document.file_id) == CSV
    upload = emu.calls_to("sendDocument")[0].params["document"]
    assert isinstance(upload, UploadedFile) and upload.filename == "รายงาน.csv"


async def test_bytes_without_a_name_get_ptbs_default_name(bot: Bot, user: EmuUser) -> None:
    sent = await bot.send_document(user.id, b"raw bytes")
    assert sent.document is not None
    assert sent.document.file_name == "application.octet-stream"
    assert sent.document.mime_type == "application/octet-stream"


async def test_document_from_a_file_object_and_an_input_file(
    bot: Bot, emu: Emulator, user: EmuUser, tmp_path: Path
) -> None:
    path = tmp_path / "scores.txt"
    path.write_bytes(b"10\n20\n")
    with path.open("rb") as handle:
        from_file = await bot.send_document(user.id, handle)
    assert from_file.document is not None
    assert (from_file.document.file_name, from_file.document.mime_type) == (
        "scores.txt",
        "text/plain",
    )
    assert emu.files.content_of(emu.last_sent(user.id)) == ("scores.txt", b"10\n20\n")

    from_input = await bot.send_document(user.id, InputFile(io.BytesIO(CSV), filename="a.csv"))
    assert from_input.document is not None and from_input.document.file_name == "a.csv"
    assert emu.files.read(from_input.document.file_id) == CSV

    # attach=True: PTB sends "attach://<name>" and the bytes in the part of that name.
    attached = await bot.send_document(user.id, InputFile(CSV, filename="b.csv", attach=True))
    assert str(emu.calls[-1].params["document"]).startswith("attach://")
    assert attached.document is not None and attached.document.file_name == "b.csv"
    assert emu.files.read(attached.document.file_id) == CSV


async def test_caption_markup_and_buttons(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ok")]])
    sent = await bot.send_document(
        user.id, CSV, filename="a.csv", caption="<b>สรุป</b> ผล", parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )  # fmt: skip
    assert sent.caption == "สรุป ผล"
    assert sent.caption_entities == (MessageEntity(MessageEntity.BOLD, 0, 4),)
    assert sent.reply_markup == markup
    assert emu.last_sent(user.id).history == ["สรุป ผล"]
    entities = await bot.send_document(
        user.id, CSV, filename="a.csv", caption="สรุป ผล",
        caption_entities=[MessageEntity(MessageEntity.ITALIC, 0, 4)],
    )  # fmt: skip
    assert entities.caption_entities == (MessageEntity(MessageEntity.ITALIC, 0, 4),)


async def test_caption_limit_is_1024_after_parsing(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    fits = await bot.send_document(
        user.id, CSV, filename="a.csv", caption=f"<b>{'ก' * 1024}</b>", parse_mode="HTML"
    )
    assert fits.caption is not None and len(fits.caption) == 1024
    with refused("message caption is too long"):
        await bot.send_document(user.id, CSV, filename="a.csv", caption="ก" * 1025)
    assert last_error(emu) == "Bad Request: message caption is too long"
    with refused("can't parse entities"):
        await bot.send_photo(user.id, png(2, 2), caption="<b>open", parse_mode="HTML")
    empty = await bot.send_document(user.id, CSV, filename="a.csv", caption="")
    assert empty.caption is None


# ------------------------------------------------------------------ sendPhoto


async def test_small_photo_is_one_size(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    image = png(40, 30)
    sent = await bot.send_photo(user.id, image, caption="แผนที่")
    [size] = sent.photo
    assert (size.width, size.height, size.file_size) == (40, 30, len(image))
    assert size.file_id.startswith("AgAC")
    assert sent.caption == "แผนที่"
    assert emu.files.content_of(emu.last_sent(user.id)) == ("photo.jpg", image)


async def test_larger_photo_comes_in_telegrams_sizes_largest_last(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    image = png(400, 100)
    sent = await bot.send_photo(user.id, image)
    assert [(p.width, p.height) for p in sent.photo] == [(90, 22), (320, 80), (400, 100)]
    assert len({p.file_unique_id for p in sent.photo}) == 3
    assert emu.files.content_of(emu.last_sent(user.id)) == ("photo.jpg", image)
    assert photo_sizes(5000, 2500)[-1] == (2560, 1280)


def test_image_headers() -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08" + struct.pack(">HH", 480, 640)
    assert image_size(jpeg) == (640, 480)
    assert image_size(b"GIF89a" + struct.pack("<HH", 7, 9)) == (7, 9)
    bits = (99 | 49 << 14).to_bytes(4, "little")  # width - 1, height - 1
    vp8l = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + bits
    assert image_size(vp8l) == (100, 50)
    assert image_size(b"BM" + b"\x00" * 16 + struct.pack("<ii", 12, -8)) == (12, 8)
    assert image_size(png(3, 5)) == (3, 5)
    assert image_size(b"%PDF-1.7") is None


async def test_photo_limits(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    with refused("PHOTO_INVALID_DIMENSIONS"):
        await bot.send_photo(user.id, png_header(6000, 4001))  # width + height > 10000
    assert last_error(emu) == "Bad Request: PHOTO_INVALID_DIMENSIONS"
    with refused("PHOTO_INVALID_DIMENSIONS"):
        await bot.send_photo(user.id, png_header(2100, 100))  # ratio above 20
    await bot.send_photo(user.id, png_header(2000, 100))  # exactly 20 is fine
    with refused("IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.id, b"%PDF-1.7 not an image")
    too_big = png_header(100, 100, padding=MAX_PHOTO_BYTES)
    with refused("is too big for a photo"):
        await bot.send_photo(user.id, too_big)
    assert last_error(emu) == (
        f"Bad Request: file of size {len(too_big)} bytes is too big for a photo; "
        "the maximum size is 10485760 bytes"
    )


# ------------------------------------------------------------------ re-sending by file_id


async def test_resend_by_file_id_is_the_same_file(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    first = await bot.send_document(user.id, CSV, filename="a.csv")
    assert first.document is not None
    again = await bot.send_document(user.id, first.document.file_id, caption="อีกครั้ง")
    assert again.document is not None
    assert again.document.file_unique_id == first.document.file_unique_id
    assert again.document.file_name == "a.csv"
    assert again.document.file_id != first.document.file_id  # a new id, as Telegram gives
    assert emu.files.content_of(emu.last_sent(user.id)) == ("a.csv", CSV)
    assert emu.files.files[again.document.file_id] is emu.files.files[first.document.file_id]

    photo = await bot.send_photo(user.id, png(400, 100))
    by_thumbnail = await bot.send_photo(user.id, photo.photo[0].file_id)
    assert [p.file_unique_id for p in by_thumbnail.photo] == [p.file_unique_id for p in photo.photo]


async def test_file_id_errors(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    document = (await bot.send_document(user.id, CSV, filename="a.csv")).document
    photo = (await bot.send_photo(user.id, png(2, 2))).photo[-1]
    assert document is not None
    with refused("type of file mismatch"):
        await bot.send_photo(user.id, document.file_id)
    with refused("type of file mismatch"):
        await bot.send_document(user.id, photo.file_id)
    with refused("wrong file identifier/HTTP URL specified"):
        await bot.send_document(user.id, "BQACAgUAAxkDAAIunknownunknownunknown")
    assert last_error(emu) == "Bad Request: wrong file identifier/HTTP URL specified"
    with refused("wrong remote file identifier specified: wrong string length"):
        await bot.send_document(user.id, document.file_unique_id)  # not a file_id
    with refused("failed to get HTTP URL content"):
        await bot.send_document(user.id, "https://example.com/report.pdf")
    assert last_error(emu) == "Bad Request: failed to get HTTP URL content"


async def test_upload_errors(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    with refused("file must be non-empty"):
        await bot.send_document(user.id, b"", filename="empty.csv")
    assert last_error(emu) == "Bad Request: file must be non-empty"
    with refused("file must be non-empty"):
        await bot.send_photo(user.id, b"")
    with refused("there is no document in the request"):
        await bot.send_document(user.id, "   ")
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_document(user.id, b"\x00" * (MAX_UPLOAD_BYTES + 1), filename="big.bin")
    assert (emu.calls[-1].error_code, last_error(emu)) == (413, "Request Entity Too Large")
    assert await bot.send_document(user.id, b"\x00" * 1024, filename="small.bin")


async def test_chat_checks_come_before_the_file(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    with refused("chat not found"):
        await bot.send_document(999, CSV, filename="a.csv")
    emu.block_bot(user)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_photo(user.id, png(2, 2))
    assert emu.files.files == {}


# ------------------------------------------------------------------ getFile and downloads


async def test_get_file_and_download_in_process(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    sent = await bot.send_document(user.id, CSV, filename="รายงาน.csv")
    assert sent.document is not None
    file = await bot.get_file(sent.document.file_id)
    assert (file.file_unique_id, file.file_size) == (sent.document.file_unique_id, len(CSV))
    assert file.file_path is not None and file.file_path.endswith("/documents/file_0.csv")
    assert bytes(await file.download_as_bytearray()) == CSV

    photo = await bot.send_photo(user.id, png(400, 100))
    photo_file = await photo.photo[-1].get_file()
    assert photo_file.file_path is not None and "/photos/file_1.jpg" in photo_file.file_path
    assert bytes(await photo_file.download_as_bytearray()) == png(400, 100)


async def test_get_file_errors(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    sent = await bot.send_document(user.id, CSV, filename="a.csv")
    assert sent.document is not None
    with refused("wrong file_id or the file is temporarily unavailable"):
        await bot.get_file("BQACAgUAAxkDAAIunknown")
    with refused("invalid file_id"):
        await bot.get_file(sent.document.file_unique_id)
    big = emu.files.store_document(b"\x00" * (20 * 1024 * 1024 + 1), "big.bin")
    with refused("file is too big"):
        await bot.get_file(big.file_ids[-1])
    assert last_error(emu) == "Bad Request: file is too big"


@pytest.fixture
async def server(emu: Emulator) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(emu) as running:
        yield running


def http_bot(server: EmulatorServer) -> Bot:
    """PTB's Bot with its default HTTPX transport; downloads from the emulator's file route."""
    return Bot(
        server.emulator.token,
        base_url=f"{server.base_url}/bot",
        base_file_url=f"{server.base_url}/file/bot",
    )


async def test_upload_and_download_over_http(
    server: EmulatorServer, emu: Emulator, user: EmuUser
) -> None:
    async with http_bot(server) as bot:
        sent = await bot.send_document(user.id, CSV, filename="รายงาน.csv", caption="<i>ผล</i>",
                                       parse_mode="HTML")  # fmt: skip
        assert sent.document is not None and sent.document.file_name == "รายงาน.csv"
        assert sent.caption_entities == (MessageEntity(MessageEntity.ITALIC, 0, 2),)
        upload = emu.calls_to("sendDocument")[0].params["document"]
        assert isinstance(upload, UploadedFile) and upload == CSV  # still bytes, for old readers
        assert (upload.filename, upload.content_type) == ("รายงาน.csv", "text/csv")
        file = await bot.get_file(sent.document.file_id)
        assert bytes(await file.download_as_bytearray()) == CSV

        photo = await bot.send_photo(user.id, png(30, 20))
        assert [(p.width, p.height) for p in photo.photo] == [(30, 20)]
        photo_file = await bot.get_file(photo.photo[-1].file_id)
        assert bytes(await photo_file.download_as_bytearray()) == png(30, 20)
    assert emu.files.content_of(emu.last_sent(user.id)) == ("photo.jpg", png(30, 20))


async def test_file_route_is_404_for_a_wrong_token_or_path(
    server: EmulatorServer, emu: Emulator, user: EmuUser
) -> None:
    stored = emu.files.store_document(CSV, "a.csv")
    not_found = {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http_bot(server) as bot, httpx.AsyncClient() as client:
        file = await bot.get_file(stored.file_ids[-1])
        assert file.file_path is not None
        response = await client.get(file.file_path)
        assert (response.status_code, response.content) == (200, CSV)
        assert response.headers["content-type"].startswith("text/csv")
        path = file.file_path.rsplit("/", 2)[-2:]
        wrong_token = f"{server.base_url}/file/bot1:wrong/{'/'.join(path)}"
        unknown = f"{server.base_url}/file/bot{emu.token}/documents/file_99.csv"
        for url in (wrong_token, unknown):
            response = await client.get(url)
            assert (response.status_code, response.json()) == (404, not_found)
    # A file never asked for with getFile has no path to download from.
    assert emu.files.store_document(b"x", "b.txt").file_path is None


async def test_attach_reference_and_oversized_body_over_http(
    server: EmulatorServer, emu: Emulator, user: EmuUser
) -> None:
    url = f"{server.base_url}/bot{emu.token}"
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{url}/sendDocument",
            data={"chat_id": str(user.id), "document": "attach://report"},
            files={"report": ("r.csv", CSV, "text/csv")},
        )
        assert response.status_code == 200, response.text
        assert response.json()["result"]["document"]["file_name"] == "r.csv"
        response = await client.post(
            f"{url}/sendDocument",
            data={"chat_id": str(user.id), "document": "attach://missing"},
            files={"report": ("r.csv", CSV, "text/csv")},
        )
        assert response.json()["description"] == "Bad Request: there is no document in the request"
        response = await client.post(
            f"{url}/sendDocument",
            data={"chat_id": str(user.id)},
            files={"document": ("big.bin", b"\x00" * (MAX_UPLOAD_BYTES + 2 * 1024 * 1024))},
        )
        assert response.status_code == 413
        assert response.json() == {
            "ok": False,
            "error_code": 413,
            "description": "Request Entity Too Large",
        }
