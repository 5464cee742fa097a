"""The emulator over real HTTP on 127.0.0.1, as the running bot talks to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot
from telegram.error import Conflict, InvalidToken

from bot.emulator.emulator import Emulator
from bot.emulator.server import EmulatorServer

from .support import refused


@pytest.fixture
async def server(emu: Emulator) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(emu) as running:
        yield running


def http_bot(server: EmulatorServer, token: str | None = None) -> Bot:
    """python-telegram-bot's Bot with its default HTTPX transport, pointed at the emulator."""
    return Bot(token or server.emulator.token, base_url=f"{server.base_url}/bot")


async def test_listens_on_a_free_port(server: EmulatorServer) -> None:
    assert server.port != 0
    assert server.base_url == f"http://127.0.0.1:{server.port}"


async def test_get_me_and_send_form_encoded(server: EmulatorServer, emu: Emulator) -> None:
    person = emu.add_user(1, "Ann")
    await emu.user_sends(person, "/start")
    async with http_bot(server) as bot:  # initialising calls getMe
        assert bot.username == "learncity_test_bot"
        sent = await bot.send_message(1, "<b>สวัสดี</b>", parse_mode="HTML")
        assert sent.text == "สวัสดี" and sent.entities[0].length == 6
        with refused("chat not found"):
            await bot.send_message(2, "nobody")
    assert emu.calls_to("sendMessage")[0].params["parse_mode"] == "HTML"


async def test_json_body_and_query_string(server: EmulatorServer, emu: Emulator) -> None:
    person = emu.add_user(1, "Ann")
    await emu.user_sends(person, "/start")
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}
    url = f"{server.base_url}/bot{emu.token}"
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/sendMessage", json={"chat_id": 1, "text": "hi", "reply_markup": markup}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is True and body["result"]["reply_markup"] == markup
        response = await client.get(f"{url}/sendMessage", params={"chat_id": "1", "text": "yo"})
        assert response.status_code == 200 and response.json()["result"]["text"] == "yo"
        response = await client.post(f"{url}/sendMessage", json={"chat_id": 1, "text": "<b>"})
        assert response.status_code == 200  # no parse_mode: plain text
        response = await client.post(
            f"{url}/sendMessage", json={"chat_id": 1, "text": "<b>", "parse_mode": "HTML"}
        )
        assert response.status_code == 400
        assert response.json()["description"].startswith("Bad Request: can't parse entities")
    assert [m.text for m in emu.sent_to(1)] == ["hi", "yo", "<b>"]


async def test_wrong_token_is_unauthorized(server: EmulatorServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server.base_url}/bot1:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with http_bot(server, token="123:nottherealtoken"):
            pass


async def test_unknown_method_and_path(server: EmulatorServer, emu: Emulator) -> None:
    not_found = {"ok": False, "error_code": 404, "description": "Not Found"}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{server.base_url}/bot{emu.token}/sendTelepathy")
        assert (response.status_code, response.json()) == (404, not_found)
        response = await client.get(f"{server.base_url}/favicon.ico")
        assert (response.status_code, response.json()) == (404, not_found)


async def test_long_poll_returns_when_a_message_arrives(
    server: EmulatorServer, emu: Emulator
) -> None:
    person = emu.add_user(1, "Ann")
    async with http_bot(server) as bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert not poll.done(), "getUpdates must wait for an update"
        await emu.user_sends(person, "hello")
        updates = await asyncio.wait_for(poll, 3)
        elapsed = time.monotonic() - started
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert elapsed < 2, f"the long poll took {elapsed:.2f} s"


async def test_second_poll_ends_the_first_with_conflict(
    server: EmulatorServer, emu: Emulator
) -> None:
    async with http_bot(server) as first, http_bot(server) as second:
        poll = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(poll, 3)
        assert time.monotonic() - started < 2
    assert [c.error_code for c in emu.calls_to("getUpdates")] == [None, 409]


async def test_closing_the_server_answers_a_pending_poll(emu: Emulator) -> None:
    server = EmulatorServer(emu)
    await server.start()
    try:
        async with http_bot(server) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=10))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await server.stop()
            assert await asyncio.wait_for(poll, 3) == ()
            assert time.monotonic() - started < 2
    finally:
        await server.stop()
