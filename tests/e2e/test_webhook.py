"""Webhook mode end to end: the emulator POSTs updates to the bot's own server (local mode).

The bot runs as `learncity run --webhook` runs it (bot/webhook_server.py behind setWebhook);
the onboarding flows are the very steps of tests/e2e/test_onboarding.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram import WebhookInfo

from bot.emulator.harness import LiveBot, sqlite_url
from bot.webhook_server import SECRET_HEADER, WebhookServer
from storage.database import Database
from tests.e2e import test_onboarding as onboarding
from tests.e2e.test_run_command import _learncity

SECRET = "s3cret_Token-for-tests"
# Nothing listens on the discard port: a database there is "gone".
GONE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/gone"


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[LiveBot]:
    """The real bot taking updates by webhook; afterwards, no Bot API call was refused."""
    bot = LiveBot(database_url=sqlite_url(tmp_path / "webhook.db"), webhook_secret=SECRET)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    refused = [(c.method, c.description) for c in bot.emulator.calls if not c.ok]
    assert refused == [], f"the Bot API refused calls: {refused}"
    assert bot.emulator.calls_to("getUpdates") == [], "webhook mode never polls"


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            url, data=body, headers={"Content-Type": "application/json", **headers}
        ) as response,
    ):
        return response.status, await response.text()


async def _get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, json.loads(await response.text())


async def _first_delivery_error(live: LiveBot) -> WebhookInfo:
    """getWebhookInfo once the emulator has recorded a failed delivery (within 10 s)."""
    for _ in range(1000):
        info = await live.app.bot.get_webhook_info()
        if info.last_error_message:
            return info
        await asyncio.sleep(0.01)
    raise AssertionError("no delivery failed")


def _update(update_id: int, user_id: int, text: str) -> bytes:
    user = {"id": user_id, "is_bot": False, "first_name": "Mallory"}
    message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": "Mallory"},
        "from": user,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_onboarding_in_thai_through_the_webhook(hooked: LiveBot) -> None:
    await onboarding.test_onboarding_in_thai_stores_only_the_chosen_consents(hooked)
    assert hooked.webhook_server is not None and hooked.webhook_server.received >= 6
    info = await hooked.app.bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_message) == (
        hooked.webhook_url,
        0,
        None,
    )


async def test_onboarding_in_english_through_the_webhook(hooked: LiveBot) -> None:
    await onboarding.test_onboarding_in_english_with_accept_all_and_no_district(hooked)


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    hooked: LiveBot,
) -> None:
    server = hooked.webhook_server
    assert server is not None
    for headers in ({SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}, {}):
        status, _ = await _post(hooked.webhook_url, _update(900, 4242, "/start"), headers)
        assert status == 403
    await asyncio.sleep(0.1)
    assert server.received == 0
    assert hooked.emulator.sent_to(4242) == []
    assert hooked.emulator.calls_to("sendMessage") == []


async def test_updates_sent_with_a_wrong_secret_wait_at_telegram_until_it_is_right(
    hooked: LiveBot,
) -> None:
    hooked.emulator.webhook.set_webhook_interval = 0  # Telegram allows one change a second
    await hooked.app.bot.set_webhook(hooked.webhook_url, secret_token="not_the_bots_secret")
    somsri = hooked.user(1010, "สมศรี", language_code="th")
    await hooked.emulator.user_sends(somsri, "/start")
    info = await _first_delivery_error(hooked)
    assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
    assert info.pending_update_count == 1
    assert hooked.emulator.sent_to(1010) == []

    await hooked.app.bot.set_webhook(hooked.webhook_url, secret_token=SECRET)
    await hooked.settle()
    assert "กรุณาเลือกภาษา" in (hooked.emulator.last_sent(1010).text or "")


async def test_a_body_that_is_not_an_update_is_a_400(hooked: LiveBot) -> None:
    secret = {SECRET_HEADER: SECRET}
    assert (await _post(hooked.webhook_url, b"{not json", secret))[0] == 400
    assert (await _post(hooked.webhook_url, b"[1, 2]", secret))[0] == 400
    assert (await _post(hooked.webhook_url, b"\xff\xfe", secret))[0] == 400
    too_large = b'{"update_id": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert (await _post(hooked.webhook_url, too_large, secret))[0] == 400
    assert hooked.webhook_server is not None and hooked.webhook_server.received == 0


async def test_healthz_reports_the_database_the_scheduler_and_the_last_update(
    hooked: LiveBot,
) -> None:
    server = hooked.webhook_server
    assert server is not None
    base = f"http://127.0.0.1:{server.port}"
    status, body = await _get(f"{base}/healthz")
    assert status == 200
    assert body == {
        "ok": True,
        "database": True,
        "scheduler": True,
        "accepting": True,
        "last_update_age_seconds": None,
    }
    await hooked.send(hooked.user(1011, "Alice", language_code="en"), "/help")
    status, body = await _get(f"{base}/healthz")
    assert status == 200 and isinstance(body["last_update_age_seconds"], float)


async def test_healthz_is_503_when_the_database_is_gone(hooked: LiveBot) -> None:
    gone = Database(GONE_DATABASE)
    server = WebhookServer(hooked.app, secret=SECRET, path="/other", database=gone)
    await server.start()
    try:
        status, body = await _get(f"http://127.0.0.1:{server.port}/healthz")
    finally:
        await server.close()
        await gone.dispose()
    assert status == 503
    assert body["ok"] is False and body["database"] is False and body["scheduler"] is True


async def test_while_stopping_updates_are_refused_with_503_and_stay_at_telegram(
    hooked: LiveBot,
) -> None:
    server = hooked.webhook_server
    assert server is not None
    server.stop_accepting()
    secret = {SECRET_HEADER: SECRET}
    status, _ = await _post(hooked.webhook_url, _update(901, 4343, "/start"), secret)
    assert status == 503
    assert (await _get(f"http://127.0.0.1:{server.port}/healthz"))[0] == 503
    anan = hooked.user(1012, "Anan", language_code="th")
    await hooked.emulator.user_sends(anan, "/start")
    info = await _first_delivery_error(hooked)
    assert info.pending_update_count == 1 and hooked.emulator.sent_to(1012) == []
    assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"


async def test_run_webhook_without_its_url_is_one_line_and_exit_code_2(
    tmp_path: Path,
) -> None:
    env = {
        "DATABASE_URL": sqlite_url(tmp_path / "run.db"),
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "WEBHOOK_URL": "",
        "WEBHOOK_SECRET": "",
    }
    code, _, err = await _learncity(env, "run", "--webhook")
    assert (code, err.strip().splitlines()) == (
        2,
        ["Configuration error: WEBHOOK_URL: is not set (the HTTPS address Telegram calls)."],
    )
