"""Per-sender ordering with concurrency across senders."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.update_processor import PerSenderUpdateProcessor, sender_key


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", False)
    chat = Chat(user_id, "private")
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_each_senders_updates_run_in_order_while_senders_run_together() -> None:
    processor = PerSenderUpdateProcessor(max_concurrent_updates=16)
    log: list[tuple[int, int]] = []
    running = 0
    peak = 0

    async def handle(user_id: int, n: int, delay: float) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(delay)
        log.append((user_id, n))
        running -= 1

    tasks = []
    update_id = 0
    for n in range(5):
        for user_id in (1, 2, 3):
            update_id += 1
            # Later updates are quicker: without the lock they would overtake earlier ones.
            coroutine = handle(user_id, n, 0.05 / (n + 1))
            tasks.append(
                asyncio.create_task(
                    processor.process_update(_update(update_id, user_id), coroutine)
                )
            )
    await asyncio.gather(*tasks)
    for user_id in (1, 2, 3):
        assert [n for u, n in log if u == user_id] == [0, 1, 2, 3, 4]
    assert peak == 3, "three people were handled at the same time"
    assert processor._locks == {}, "no state kept for idle senders"


def test_the_sender_is_the_user_else_the_chat() -> None:
    assert sender_key(_update(1, 42)) == 42
    assert sender_key(object()) is None


async def test_work_run_in_a_senders_turn_waits_for_their_update_in_progress() -> None:
    processor = PerSenderUpdateProcessor(max_concurrent_updates=4)
    log: list[str] = []
    release = asyncio.Event()

    async def slow_update() -> None:
        await release.wait()
        log.append("update")

    async def replayed() -> str:
        log.append("replayed")
        return "done"

    running = asyncio.create_task(processor.do_process_update(_update(1, 7), slow_update()))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(processor.in_turn(7, replayed()))
    other = await processor.in_turn(8, replayed())  # another sender does not wait
    assert other == "done" and log == ["replayed"]
    release.set()
    assert await waiting == "done"
    await running
    assert log == ["replayed", "update", "replayed"]
