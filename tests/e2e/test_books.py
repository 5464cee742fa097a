"""`/books` end to end: a facilitator adds, edits, links and retires human books; the book
links itself by its one-time deep link; readers of a retired book are told in their language
and never see the book's Telegram account."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuUser
from bot.i18n.catalog import catalogs
from bot.i18n.dates import format_datetime
from bot.survey_cli import DEFAULT_SURVEY
from storage import citizens, clock, library, roles, surveys
from storage.citizens import NewCitizen
from storage.clock import ManualClock
from storage.enums import AgeBand, Purpose, Role
from storage.survey_spec import load_survey_file

FACILITATOR_TH, FACILITATOR_EN = 8201, 8202
READER_TH, READER_EN = 8203, 8204
CITIZEN = 8205
BOOK_PERSON = 8206  # never signed up; its username must never reach a reader
BOOK_USERNAME = "fisher_of_yala"
TITLE = {"th": "ชีวิตชาวประมงยะลา", "en": "A fisher's life"}
BLURB = {"th": "เรื่องเล่าจากทะเลและการเปลี่ยนอาชีพ", "en": "Stories from the sea and a new trade"}
CATALOGS = catalogs()
BANGKOK = ZoneInfo("Asia/Bangkok")


def text(language: str, key: str, **values: object) -> str:
    """A catalog message as the person reads it (markup gone)."""
    return html.unescape(re.sub(r"<[^>]+>", "", CATALOGS.text(language, key, **values)))


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(database_url=sqlite_url(tmp_path / "books.db"), in_process=True)
    async with bot:
        assert bot.db is not None
        async with bot.db.session() as session:
            # The survey brings the need categories a book is filed under.
            await surveys.import_survey(load_survey_file(DEFAULT_SURVEY), session=session)
            for user_id, language in [
                (FACILITATOR_TH, "th"),
                (FACILITATOR_EN, "en"),
                (READER_TH, "th"),
                (READER_EN, "en"),
                (CITIZEN, "en"),
            ]:
                bot.user(user_id, f"P{user_id}", language_code=language)
                bot.emulator.chats[user_id].started = True
                await citizens.register_citizen(
                    NewCitizen(user_id, language, AgeBand.age_35_49, False, None),  # type: ignore[arg-type]
                    dict.fromkeys(Purpose, True),
                    session=session,
                )
            for user_id in (FACILITATOR_TH, FACILITATOR_EN):
                await roles.grant_role(user_id, Role.facilitator, actor="system", session=session)
        bot.user(BOOK_PERSON, "Somchai", username=BOOK_USERNAME, language_code="en")
        yield bot
    assert bot.emulator.unanswered_callback_queries() == []
    assert [(c.method, c.description) for c in bot.emulator.calls if not c.ok] == []
    # Readers and ordinary citizens never see a book's Telegram account, anywhere.
    for reader in (READER_TH, READER_EN, CITIZEN):
        for message in bot.emulator.sent_to(reader):
            shown = message.text or ""
            assert BOOK_USERNAME not in shown and str(BOOK_PERSON) not in shown


def user(live: LiveBot, user_id: int) -> EmuUser:
    return live.emulator.users[user_id]


async def new_book(live: LiveBot, **changes: object) -> library.Book:
    """A book added through storage (the wizard itself is tested once, below)."""
    fields: dict[str, object] = {
        "title": TITLE,
        "blurb": BLURB,
        "tags": ["fishing"],
        "categories": ["languages"],
        "languages": ["th", "ms"],
        "created_by": FACILITATOR_EN,
    }
    fields.update(changes)
    assert live.db is not None
    async with live.db.session() as session:
        return await library.create_book(session=session, **fields)  # type: ignore[arg-type]


async def stored_books(live: LiveBot) -> list[library.Book]:
    assert live.db is not None
    async with live.db.session() as session:
        return await library.books(include_retired=True, session=session)


async def get_link(live: LiveBot, facilitator: int, number: int = 1) -> str:
    """The facilitator asks /books for a book's link; returns the `book-…` payload."""
    person = user(live, facilitator)
    await live.send(person, "/books")
    language = "th" if facilitator == FACILITATOR_TH else "en"
    await live.press(person, text(language, "books.button.link", number=number))
    match = re.search(
        r"start=(book-[A-Za-z0-9_-]+)", live.emulator.last_sent(facilitator).text or ""
    )
    assert match, live.emulator.last_sent(facilitator).text
    return match.group(1)


def alert(query: object) -> str:
    answer = getattr(query, "answer", None)
    assert isinstance(answer, dict)
    return str(answer.get("text", ""))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_facilitator_adds_a_book_in_thai_through_the_whole_wizard(live: LiveBot) -> None:
    facilitator = user(live, FACILITATOR_TH)
    [listing] = await live.send(facilitator, "/books")
    assert listing.text == text("th", "books.list_empty")
    await live.press(facilitator, text("th", "books.button.add"))
    assert "ชื่อเรื่องภาษาไทย" in (live.emulator.last_sent(FACILITATOR_TH).text or "")
    await live.send(facilitator, TITLE["th"])
    await live.send(facilitator, TITLE["en"])
    await live.send(facilitator, BLURB["th"])

    # A blurb over 300 characters: refused with the limit, and the step stays.
    [refusal] = await live.send(facilitator, "ก" * 301)
    assert refusal.text == text("th", "books.blurb_too_long", limit=300, length=301)
    assert text("th", "button.cancel") in refusal.button_texts
    [tags_prompt] = await live.send(facilitator, BLURB["en"])
    assert "แท็ก" in (tags_prompt.text or "")

    # Back to the English blurb, keep it, and on to the tags again.
    await live.press(facilitator, text("th", "books.button.back"))
    assert BLURB["en"] in (live.emulator.last_sent(FACILITATOR_TH).text or "")
    await live.press(facilitator, text("th", "books.button.keep"))
    [bad_tags] = await live.send(facilitator, "fishing, sea!")
    assert bad_tags.text == text("th", "books.tags_invalid", max=8, length=32)
    [categories] = await live.send(facilitator, "ประมง, fishing  #Sea")
    assert "☐ ภาษา" in categories.button_texts, "category names in the facilitator's language"

    # No category chosen: told so, and the step stays.
    query = await live.press(facilitator, text("th", "books.button.next"))
    assert alert(query) == text("th", "books.need_category")
    assert "ความต้องการเรียนรู้" in (live.emulator.last_sent(FACILITATOR_TH).text or "")
    await live.press(facilitator, "☐ ภาษา")
    await live.press(facilitator, "☐ วัฒนธรรมและมรดกท้องถิ่น")
    await live.press(facilitator, "☐ ทักษะดิจิทัล")
    await live.press(facilitator, "☑ ทักษะดิจิทัล")  # changed their mind
    await live.press(facilitator, text("th", "books.button.next"))

    query = await live.press(facilitator, text("th", "books.button.next"))
    assert alert(query) == text("th", "books.need_language")
    await live.press(facilitator, "☐ ภาษาไทย")
    await live.press(facilitator, "☐ ภาษามลายู")
    await live.press(facilitator, text("th", "books.button.next"))
    summary = live.emulator.last_sent(FACILITATOR_TH)
    for shown in (*TITLE.values(), *BLURB.values(), "ประมง, fishing, sea", "ภาษาไทย, ภาษามลายู"):
        assert shown in (summary.text or ""), shown
    confirm = str(summary.buttons[0]["callback_data"])
    await live.press(facilitator, text("th", "button.confirm"))
    assert live.emulator.last_sent(FACILITATOR_TH).text == text(
        "th", "books.added", title=TITLE["th"]
    )

    [book] = await stored_books(live)
    assert book.title == TITLE and book.blurb == {"th": BLURB["th"], "en": BLURB["en"]}
    assert book.tags == ("ประมง", "fishing", "sea")
    assert book.categories == ("languages", "local_culture")
    assert book.languages == ("th", "ms")
    assert book.created_by == FACILITATOR_TH and not book.linked and not book.listed

    # The spent Confirm, pressed again: expired, and no second book.
    again = await live.press_data(facilitator, summary, confirm)
    assert alert(again) == text("th", "common.expired")
    assert len(await stored_books(live)) == 1


async def test_the_book_links_itself_once_by_its_link(live: LiveBot) -> None:
    await new_book(live)
    payload = await get_link(live, FACILITATOR_EN)
    explained, invitation = live.emulator.sent_to(FACILITATOR_EN)[-2:]
    assert "expires on" in (explained.text or "")
    assert re.search(r"expires on \w{3} \d+ \w{3} 20\d\d, \d\d:\d\d", explained.text or "")
    assert f"https://t.me/learncity_test_bot?start={payload}" in (invitation.text or "")

    # The book has never used the bot: it sees what will be listed, in its app's language.
    book_person = user(live, BOOK_PERSON)
    [offer] = await live.send(book_person, f"/start {payload}")
    assert TITLE["en"] in (offer.text or "") and BLURB["en"] in (offer.text or "")
    assert "never see your Telegram account" in (offer.text or "")
    await live.press(book_person, text("en", "books.button.agree"))
    assert live.emulator.last_sent(BOOK_PERSON).text == text(
        "en", "books.link_done", title=TITLE["en"]
    )
    [book] = await stored_books(live)
    assert book.telegram_user_id == BOOK_PERSON and book.consented_at is not None and book.listed
    assert live.emulator.last_sent(FACILITATOR_EN).text == text(
        "en", "books.linked_notice", title=TITLE["en"]
    )
    assert live.db is not None
    async with live.db.session() as session:
        assert await citizens.get_citizen(BOOK_PERSON, session=session) is None, "not signed up"

    # The same link again: by the book, and by someone else (through onboarding's welcome).
    [again] = await live.send(book_person, f"/start {payload}")
    assert again.text == text("en", "books.link_already_yours")
    await live.send(user(live, READER_EN), f"/start {payload}")
    assert live.emulator.last_sent(READER_EN).text == text("en", "books.link_used")
    await live.send(user(live, FACILITATOR_EN), "/books")
    listing = live.emulator.last_sent(FACILITATOR_EN)
    assert text("en", "books.button.link", number=1) not in listing.button_texts
    assert BOOK_USERNAME not in (listing.text or "") and str(BOOK_PERSON) not in (
        listing.text or ""
    )


async def test_declining_the_link_changes_nothing(live: LiveBot) -> None:
    await new_book(live)
    payload = await get_link(live, FACILITATOR_TH)
    reader = user(live, READER_TH)  # a registered citizen: onboarding welcomes, then the offer
    await live.send(reader, f"/start {payload}")
    offer = live.emulator.last_sent(READER_TH)
    assert TITLE["th"] in (offer.text or "") and BLURB["th"] in (offer.text or "")
    await live.press(reader, text("th", "books.button.decline"))
    assert live.emulator.last_sent(READER_TH).text == text("th", "books.link_declined")
    [book] = await stored_books(live)
    assert not book.linked and book.consented_at is None
    # A forged code on the Agree button: expired-like refusal, nothing linked.
    query = await live.press_data(reader, offer, "v1:books:agree:AAAAAAAAAAAAAAAAAAAA")
    assert query.answered
    assert live.emulator.last_sent(READER_TH).text == text("th", "books.link_unknown")
    assert not (await stored_books(live))[0].linked


async def test_an_expired_or_unknown_link_is_refused(live: LiveBot) -> None:
    await new_book(live)
    manual = ManualClock(clock.now())
    clock.set_clock(manual)
    try:
        payload = await get_link(live, FACILITATOR_EN)
        manual.advance(library.DEFAULT_LINK_TTL + timedelta(minutes=1))
        [expired] = await live.send(user(live, BOOK_PERSON), f"/start {payload}")
    finally:
        clock.set_clock(None)
    assert expired.text == text("en", "books.link_expired")
    [unknown] = await live.send(user(live, BOOK_PERSON), "/start book-nosuchcode")
    assert unknown.text == text("en", "books.link_unknown")
    assert not (await stored_books(live))[0].linked


async def test_a_facilitator_edits_a_title(live: LiveBot) -> None:
    await new_book(live)
    facilitator = user(live, FACILITATOR_EN)
    await live.send(facilitator, "/books")
    await live.press(facilitator, text("en", "books.button.edit", number=1))
    await live.press(facilitator, text("en", "books.button.field_title"))
    assert TITLE["th"] in (live.emulator.last_sent(FACILITATOR_EN).text or ""), "shows the current"
    await live.press(facilitator, text("en", "books.button.keep"))
    [too_long] = await live.send(facilitator, "x" * 101)
    assert too_long.text == text("en", "books.title_too_long", limit=100, length=101)
    [done] = await live.send(facilitator, "A fisher's life in Yala")
    assert done.text == text("en", "books.updated", title="A fisher's life in Yala")
    [book] = await stored_books(live)
    assert book.title == {"th": TITLE["th"], "en": "A fisher's life in Yala"}


async def test_retiring_a_book_tells_its_readers_in_their_language(live: LiveBot) -> None:
    book = await new_book(live)
    assert live.db is not None
    async with live.db.session() as session:
        code = await library.issue_book_link(book.id, by=FACILITATOR_EN, session=session)
    async with live.db.session() as session:
        await library.link_book(code, BOOK_PERSON, session=session)
    async with live.db.session() as session:
        event = await library.create_event(
            starts_at=clock.now() + timedelta(days=3), place_text="ห้องสมุดเทศบาลนครยะลา",
            slots_per_book=3, book_ids=[book.id], created_by=FACILITATOR_EN, session=session,
        )  # fmt: skip
    assert event.id is not None
    for press_order, reader in enumerate((READER_TH, READER_EN), start=1):
        async with live.db.session() as session:
            await library.reserve(
                event.id, book.id, reader, reader_name=f"P{reader}",
                language="th" if reader == READER_TH else "en", press_order=press_order,
                session=session,
            )  # fmt: skip

    facilitator = user(live, FACILITATOR_EN)
    await live.send(facilitator, "/books")
    await live.press(facilitator, text("en", "books.button.retire", number=1))
    await live.press(facilitator, text("en", "books.button.retire_yes"))
    assert live.emulator.last_sent(FACILITATOR_EN).text == text(
        "en", "books.retired", title=TITLE["en"], count=2
    )
    await until(lambda: bool(live.emulator.sent_to(READER_TH) and live.emulator.sent_to(READER_EN)))
    place = "ห้องสมุดเทศบาลนครยะลา"
    starts = [event.starts_at, event.starts_at + timedelta(minutes=30)]  # slots 0 and 1
    assert live.emulator.last_sent(READER_TH).text == text(
        "th", "books.retired_notice", title=TITLE["th"], place=place,
        when=format_datetime(starts[0], "th", BANGKOK),
    )  # fmt: skip
    assert live.emulator.last_sent(READER_EN).text == text(
        "en", "books.retired_notice", title=TITLE["en"], place=place,
        when=format_datetime(starts[1], "en", BANGKOK),
    )  # fmt: skip
    async with live.db.session() as session:
        assert await library.my_loans(READER_TH, now=clock.now(), session=session) == []
    [book_now] = await stored_books(live)
    assert book_now.retired
    [listing] = await live.send(facilitator, "/books")
    assert text("en", "books.status_retired") in (listing.text or "")
    assert listing.button_texts == [text("en", "books.button.add")]


async def test_a_citizen_cannot_use_books(live: LiveBot) -> None:
    [refusal] = await live.send(user(live, CITIZEN), "/books")
    assert refusal.text == text("en", "guard.refused")
    [anchor] = await live.send(user(live, CITIZEN), "/help")
    query = await live.press_data(user(live, CITIZEN), anchor, "v1:books:add")
    assert alert(query) == text("en", "guard.refused")


async def test_forged_and_stale_buttons_are_expired(live: LiveBot) -> None:
    book = await new_book(live)
    facilitator = user(live, FACILITATOR_EN)
    [listing] = await live.send(facilitator, "/books")
    expired = text("en", "common.expired")
    for data in (
        "v1:books:edit:999",
        "v1:books:link:abc",
        "v1:books:retok:999",
        "v1:books:ef:1:nosuchfield",
        "v1:books:cat:deadbeef:5:0",
        "v1:books:save:deadbeef:7",
        "v1:books:zz",
    ):
        query = await live.press_data(facilitator, listing, data)
        assert alert(query) == expired, data
    # A wizard's buttons die with it: the Back of a cancelled wizard does nothing.
    await live.press(facilitator, text("en", "books.button.add"))
    await live.send(facilitator, "Title")
    prompt = live.emulator.last_sent(FACILITATOR_EN)
    back = next(str(b["callback_data"]) for b in prompt.buttons if "back" in b["callback_data"])
    await live.press(facilitator, text("en", "button.cancel"))
    assert live.emulator.last_sent(FACILITATOR_EN).text == text("en", "books.cancelled")
    assert alert(await live.press_data(facilitator, prompt, back)) == expired
    # Text typed after cancelling is not taken as a title.
    await live.send(facilitator, "stray words")
    assert await stored_books(live) == [book]
    # A retired book's buttons are expired.
    async with live.db.session() as session:  # type: ignore[union-attr]
        await library.retire_book(book.id, by=FACILITATOR_EN, session=session)
    query = await live.press_data(facilitator, listing, f"v1:books:edit:{book.id}")
    assert alert(query) == expired


async def test_a_long_list_comes_in_pages(live: LiveBot) -> None:
    for number in range(1, 10):
        await new_book(live, title={"th": f"เล่ม {number}", "en": f"Book {number}"})
    facilitator = user(live, FACILITATOR_EN)
    [first] = await live.send(facilitator, "/books")
    assert "8. Book 8" in (first.text or "") and "9. Book 9" not in (first.text or "")
    assert text("en", "books.page", page=1, pages=2) in (first.text or "")
    await live.press(facilitator, text("en", "books.button.more"))
    second = live.emulator.last_sent(FACILITATOR_EN)
    assert "9. Book 9" in (second.text or "") and "1. Book 1" not in (second.text or "")
    assert text("en", "books.button.edit", number=9) in second.button_texts
    await live.press(facilitator, text("en", "books.button.previous"))
    assert "1. Book 1" in (live.emulator.last_sent(FACILITATOR_EN).text or "")
