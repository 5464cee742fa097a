"""A python-telegram-bot request that calls the emulator in-process: fast unit tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from .emulator import Emulator
from .errors import DroppedRequest
from .files import UploadedFile

FILE_PATH_MARK = "/file/bot"
NOT_FOUND_BODY = b'{"ok": false, "error_code": 404, "description": "Not Found"}'


class InProcessRequest(BaseRequest):
    """Hand to `ApplicationBuilder().request(...)`: no sockets, same answers as over HTTP."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route `.../bot<token>/<method>` to the emulator, with params as HTTP would carry them;
        serve `.../file/bot<token>/<file_path>` (`File.download_*`) as the server does."""
        if FILE_PATH_MARK in url:
            # PTB percent-encodes the path (the token's ':' too), as a server would decode it.
            token, _, file_path = unquote(url.split(FILE_PATH_MARK, 1)[1]).partition("/")
            stored = self.emulator.files.download(token, file_path)
            return (404, NOT_FOUND_BODY) if stored is None else (200, stored.data)
        path = url.split("/bot", 1)[1]
        token, api_method = path.split("/", 1)
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        if request_data and request_data.multipart_data:
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = UploadedFile(filename, mime, data)
        try:
            status, body = await self.emulator.call(token, api_method, params)
        except DroppedRequest:
            raise TimedOut("the emulator dropped this request") from None
        return status, json.dumps(body).encode()
