"""The emulator over HTTP on 127.0.0.1, speaking the Bot API as Telegram's server does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from .emulator import Emulator
from .errors import DroppedRequest
from .files import MAX_UPLOAD_BYTES, TOO_LARGE, UploadedFile

# Telegram answers getUpdates long polls of up to 50 s; aiohttp must not time them out first.
SHUTDOWN_TIMEOUT = 1.0
# Longer than any client read time-out we use, so a dropped request looks like one.
DROPPED_REQUEST_HANG = 60.0
# A 50 MB upload plus the other form fields; a larger body is refused with 413 as by Telegram.
CLIENT_MAX_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
NOT_FOUND_BODY = {"ok": False, "error_code": 404, "description": "Not Found"}


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, str | bytes):
            params[name] = value
        elif isinstance(value, FileField):
            # Keep what Telegram keeps of a part: its file name, declared type and bytes.
            params[name] = UploadedFile(value.filename, value.content_type, value.file.read())
    return params


def _json(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def make_app(emulator: Emulator) -> web.Application:
    """An aiohttp application routing `/bot<token>/<method>` to `emulator`."""

    async def bot_api(request: web.Request) -> web.Response:
        try:
            params = await _read_params(request)
        except web.HTTPRequestEntityTooLarge:
            return _json(TOO_LARGE.envelope(), TOO_LARGE.code)
        try:
            status, body = await emulator.call(
                request.match_info["token"], request.match_info["method"], params
            )
        except DroppedRequest:
            # Say nothing until the client gives up (its read time-out), as a lost request does.
            await asyncio.sleep(DROPPED_REQUEST_HANG)
            raise web.HTTPGatewayTimeout() from None
        return _json(body, status)

    async def download(request: web.Request) -> web.Response:
        # Telegram's file server: 404 alike for a wrong token and an unknown path.
        stored = emulator.files.download(request.match_info["token"], request.match_info["path"])
        if stored is None:
            return _json(NOT_FOUND_BODY, 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def not_found(request: web.Request) -> web.Response:
        return _json(NOT_FOUND_BODY, 404)

    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    app.router.add_route("GET", "/file/bot{token}/{path:.+}", download)
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


class EmulatorServer:
    """Runs an `Emulator` on 127.0.0.1 (port 0 picks a free port)."""

    def __init__(self, emulator: Emulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be set to."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen; afterwards `port` is the real port."""
        # handler_cancellation: a long poll whose client hung up ends, as on Telegram, instead
        # of lingering and colliding with the client's next getUpdates.
        self._runner = web.AppRunner(
            make_app(self.emulator),
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            handler_cancellation=True,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:
            self.port = int(address[1])
            break

    async def stop(self) -> None:
        """Answer pending long polls and close."""
        await self.emulator.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
