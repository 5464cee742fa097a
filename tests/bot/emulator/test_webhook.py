"""Webhooks: setWebhook as strict as api.telegram.org, and delivery by POST to a real receiver.

The bot side is python-telegram-bot 22.8's `Bot` in-process, so PTB parses every WebhookInfo; the
receiver is a real aiohttp server on 127.0.0.1, reached in local mode (a self-hosted
telegram-bot-api run with --local), since api.telegram.org itself never posts to loopback.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict, RetryAfter

from bot.emulator.emulator import Emulator
from bot.emulator.model import EmuUser

from .support import refused

SECRET = "s3cret_Token-42"
PUBLIC_URL = "https://bot.example.com/hook"
CANT_POLL = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@dataclass
class Received:
    """One POST the receiver got, and the status it answered with."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


class Receiver:
    """The bot's webhook endpoint: records each POST and answers `status` (200 by default)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.arrived: asyncio.Queue[Received] = asyncio.Queue()
        self.status = 200
        self.reply: dict[str, Any] | None = None
        self.hang = False  # never answer (until the test ends)
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?bot=1"

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            received = Received(request.path_qs, dict(request.headers), await request.json(), 0)
            await asyncio.sleep(0.01)  # long enough for a second POST to overlap, were one sent
            if self.hang:
                await self.arrived.put(received)
                await self.release.wait()
            received.status = self.status
            self.requests.append(received)
            await self.arrived.put(received)
            if self.reply is not None and self.status == 200:
                return web.json_response(self.reply)
            return web.Response(status=self.status)
        finally:
            self.in_flight -= 1

    async def next(self) -> Received:
        return await asyncio.wait_for(self.arrived.get(), 2)


@pytest.fixture(autouse=True)
async def closed_at_the_end(emu: Emulator) -> AsyncIterator[None]:
    """Every test ends with the emulator's close(), which stops delivery and its HTTP client."""
    yield
    await emu.close()
    assert emu.webhook._task is None and emu.webhook._session is None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.port = int(runner.addresses[0][1])
    yield hook
    hook.release.set()
    await runner.cleanup()


@pytest.fixture
def local(emu: Emulator) -> Emulator:
    """The emulator as a self-hosted telegram-bot-api run with --local."""
    emu.webhook.local_mode = True
    emu.webhook.retry_delays = (0.02,)
    return emu


def last_error(emu: Emulator) -> str:
    call = emu.calls[-1]
    assert not call.ok and call.description is not None, f"{call.method} succeeded"
    return call.description


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------ setWebhook, strict


@pytest.mark.parametrize(
    ("url", "description"),
    [
        (
            "http://bot.example.com/hook",
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            "https://bot.example.com:8080/hook",
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        (
            "https://bot.invalid/hook",
            "Bad Request: bad webhook: Failed to resolve host: Name or service not known",
        ),
        ("https://127.0.0.1/hook", "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"),
        ("https://localhost/hook", "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"),
        (
            "https://[2001:db8::1]/hook",
            "Bad Request: bad webhook: IPv6-only addresses are not allowed",
        ),
        ("ftp://bot.example.com/hook", "Bad Request: invalid webhook URL specified"),
        ("https://bot.example.com:99999/", "Bad Request: invalid webhook URL specified"),
    ],
)
async def test_strict_mode_refuses_urls_as_telegram_does(
    bot: Bot, emu: Emulator, url: str, description: str
) -> None:
    with refused(description.removeprefix("Bad Request: ")):
        await bot.set_webhook(url)
    assert last_error(emu) == description
    assert not emu.webhook.active
    assert (await bot.get_webhook_info()).url == ""


@pytest.mark.parametrize(
    ("secret", "description"),
    [
        ("a b", "secret token contains unallowed characters"),
        ("abc+/=", "secret token contains unallowed characters"),
        ("ключ", "secret token contains unallowed characters"),
        ("x" * 257, "secret token is too long"),
    ],
)
async def test_bad_secret_tokens_are_refused(
    bot: Bot, emu: Emulator, secret: str, description: str
) -> None:
    with refused(description):
        await bot.set_webhook(PUBLIC_URL, secret_token=secret)
    assert last_error(emu) == f"Bad Request: {description}"
    assert not emu.webhook.active


async def test_strict_mode_accepts_a_public_https_url(bot: Bot, emu: Emulator) -> None:
    assert await bot.set_webhook(
        "https://bot.example.com:8443/hook",
        secret_token="x" * 256,
        max_connections=10,
        allowed_updates=["message", "callback_query"],
    )
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.com:8443/hook"
    assert info.max_connections == 10
    assert info.allowed_updates == ("message", "callback_query")
    assert info.has_custom_certificate is False
    assert info.ip_address is None  # the emulator looks no name up
    assert emu.allowed_updates == ["message", "callback_query"]
    assert emu.webhook.secret_token == "x" * 256


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_second_set_webhook_within_a_second_is_rate_limited(
    bot: Bot, emu: Emulator
) -> None:
    await bot.set_webhook(PUBLIC_URL)
    with pytest.raises(RetryAfter):
        await bot.set_webhook(PUBLIC_URL)
    assert last_error(emu) == "Too Many Requests: retry after 1"
    emu.webhook.set_webhook_interval = 0
    assert await bot.set_webhook(PUBLIC_URL)  # the same webhook: nothing changes


async def test_a_refused_set_webhook_leaves_no_webhook(bot: Bot, emu: Emulator) -> None:
    emu.webhook.set_webhook_interval = 0
    await bot.set_webhook(PUBLIC_URL)
    with refused("bad webhook"):
        await bot.set_webhook("https://bot.example.com:3000/hook")
    assert (await bot.get_webhook_info()).url == ""


async def test_set_webhook_ends_a_waiting_get_updates(bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await bot.set_webhook(PUBLIC_URL)
    with pytest.raises(Conflict, match="terminated by setWebhook request"):
        await asyncio.wait_for(poll, 1)


# ------------------------------------------------------------------ pending updates


async def test_get_updates_conflicts_while_a_webhook_is_set(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    await bot.set_webhook(PUBLIC_URL)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert last_error(emu) == CANT_POLL


async def test_updates_wait_while_the_webhook_is_unreachable_then_go_to_get_updates(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    await bot.set_webhook(PUBLIC_URL)  # strict mode: the emulator never leaves this machine
    await emu.user_sends(user, "hello")
    await eventually(lambda: emu.webhook.last_error_message != "")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 2
    assert info.last_error_message == "Connection timed out"
    assert info.last_error_date is not None
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).last_error_message is None
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["/start", "hello"]


async def test_delete_webhook_can_drop_pending_updates(
    bot: Bot, emu: Emulator, user: EmuUser
) -> None:
    await bot.set_webhook(PUBLIC_URL)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_update_count == 0
    assert await bot.get_updates() == ()


async def test_set_webhook_can_drop_pending_updates(bot: Bot, emu: Emulator, user: EmuUser) -> None:
    assert await bot.set_webhook(PUBLIC_URL, drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


# ------------------------------------------------------------------ delivery, local mode


async def test_local_mode_accepts_http_on_loopback_and_any_port(bot: Bot, local: Emulator) -> None:
    port = closed_port()
    assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", max_connections=1000)
    info = await bot.get_webhook_info()
    assert (info.url, info.ip_address, info.max_connections) == (
        f"http://127.0.0.1:{port}/hook",
        "127.0.0.1",
        1000,
    )


async def test_updates_are_posted_in_order_with_the_secret(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    await local.user_sends(user, "one")
    await local.user_sends(user, "two")
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    await local.user_sends(user, "three")
    posts = [await receiver.next() for _ in range(4)]
    updates = [Update.de_json(post.body, bot) for post in posts]
    assert [u.message.text for u in updates if u.message] == ["/start", "one", "two", "three"]
    assert [u.update_id for u in updates] == [1, 2, 3, 4]
    for post in posts:
        assert post.path == "/hook?bot=1"
        assert post.headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET
        assert post.headers["Content-Type"] == "application/json"
        assert post.headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert receiver.most_in_flight == 1  # one at a time
    await local.wait_confirmed(2)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0 and info.last_error_message is None


async def test_a_named_host_gets_its_host_header_and_no_secret_without_one(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    await bot.set_webhook(f"http://localhost:{receiver.port}/hook")
    post = await receiver.next()
    assert post.headers["Host"] == f"localhost:{receiver.port}"
    assert "X-Telegram-Bot-Api-Secret-Token" not in post.headers
    assert (await bot.get_webhook_info()).ip_address == "127.0.0.1"


async def test_an_error_answer_is_retried_and_reported(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    receiver.status = 500
    await bot.set_webhook(receiver.url)
    assert (await receiver.next()).status == 500
    await eventually(lambda: local.webhook.last_error_message != "")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    receiver.status = 200
    await local.wait_confirmed(2)
    delivered = [post for post in receiver.requests if post.status == 200]
    assert [post.body["update_id"] for post in delivered] == [1]
    assert {post.body["update_id"] for post in receiver.requests} == {1}
    assert len(receiver.requests) >= 2


async def test_connection_refused_keeps_updates_pending(
    bot: Bot, local: Emulator, user: EmuUser
) -> None:
    await bot.set_webhook(f"http://127.0.0.1:{closed_port()}/hook")
    await eventually(lambda: local.webhook.last_error_message != "")
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1


async def test_a_slow_webhook_times_out(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    local.webhook.timeout = 0.2
    receiver.hang = True
    await bot.set_webhook(receiver.url)
    await eventually(lambda: local.webhook.last_error_message != "")
    assert local.webhook.last_error_message == "Read timeout expired"
    assert local.pending_update_count == 1


async def test_a_webhook_answer_may_call_the_bot_api(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    receiver.reply = {"method": "sendMessage", "chat_id": user.id, "text": "from the answer"}
    await bot.set_webhook(receiver.url)
    await eventually(lambda: bool(local.sent_to(user.id)))
    assert local.last_sent(user.id).text == "from the answer"


async def test_delete_webhook_stops_delivery(
    bot: Bot, local: Emulator, user: EmuUser, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    await receiver.next()
    await local.wait_confirmed(2)
    await bot.delete_webhook()
    await local.user_sends(user, "after")
    await asyncio.sleep(0.05)
    assert len(receiver.requests) == 1
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["after"]
