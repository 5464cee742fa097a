"""A python-telegram-bot request that calls the emulator in-process: fast unit tests."""

from __future__ import annotations

import json
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from .emulator import Emulator
from .errors import DroppedRequest


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
        """Route `.../bot<token>/<method>` to the emulator, with params as HTTP would carry them."""
        path = url.split("/bot", 1)[1]
        token, api_method = path.split("/", 1)
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        if request_data and request_data.multipart_data:
            for name, (_filename, content, _mime) in request_data.multipart_data.items():
                params[name] = content
        try:
            status, body = await self.emulator.call(token, api_method, params)
        except DroppedRequest:
            raise TimedOut("the emulator dropped this request") from None
        return status, json.dumps(body).encode()
