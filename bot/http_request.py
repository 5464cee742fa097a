"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

Measured on the project's 2-vCPU machines, a Bot API call through PTB's default
`HTTPXRequest` costs 3–6 ms of CPU in the client alone (httpcore scans its whole pool on
every request, encode/httpcore#1035), which caps one process at roughly 150–250 calls a
second whatever Telegram allows. aiohttp, already a dependency for the emulator and webhooks,
does the same work for a fraction of that (see bench/README.md). The timeouts and errors
follow `HTTPXRequest`: a pool timeout or a read timeout raises `TimedOut`, any other
transport error `NetworkError`, so PTB's retry and rate-limit logic is unchanged.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_POOL_SIZE = 64


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` over one `aiohttp.ClientSession` with a bounded connection pool.

    `connection_pool_size` bounds the connections, and so the calls in flight; a call that
    waits longer than `pool_timeout` for one raises `TimedOut` without being sent.
    """

    __slots__ = (
        "_connect_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = DEFAULT_POOL_SIZE,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        # aiohttp waits for a free connection without a bound; the semaphore gives the
        # pool timeout PTB's callers expect.
        self._pool: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (seconds)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )
            self._pool = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; see `BaseRequest.do_request`."""
        if self._session is None or self._session.closed or self._pool is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        write = self._write_timeout if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        try:
            await asyncio.wait_for(self._pool.acquire(), pool)
        except TimeoutError as error:
            raise TimedOut(
                "Pool timeout: all connections in the connection pool are occupied. "
                "Request was *not* sent to Telegram."
            ) from error
        try:
            return await self._send(url, method, request_data, read, write, connect)
        finally:
            self._pool.release()

    async def _send(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        read: float | None,
        write: float | None,
        connect: float | None,
    ) -> tuple[int, bytes]:
        assert self._session is not None
        # aiohttp has no separate write timeout: a request's sending and its answer share
        # `sock_read`, so the larger of the two bounds the wait for data.
        sock_read = None if read is None or write is None else max(read, write)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=sock_read)
        try:
            data, headers = _body(request_data)
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> tuple[Any, dict[str, str] | None]:
    """The request's body and its headers, the ways Telegram accepts them: a JSON object, or
    multipart form fields when there are files to upload.

    JSON rather than url-encoded fields: percent-encoding Thai text byte by byte in Python
    was the largest single cost of sending a poll (bench/README.md, bench_needs (b)).
    """
    if request_data is None:
        return None, None
    files = request_data.multipart_data
    if not files:
        parameters = request_data.parameters
        if not parameters:
            return None, None
        body = json.dumps(parameters, ensure_ascii=False, separators=(",", ":"))
        return body.encode(), {"Content-Type": "application/json"}
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None
