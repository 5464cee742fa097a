"""The door of a flow that needs consent to one purpose: registered? consented? else ask.

/library (human_library) and /council (coffee_council) open the same way: a stranger is
pointed to /start, a citizen without consent gets one button to give it, and a button pressed
after consent was withdrawn asks again instead of acting.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot.services import services_of
from handlers import callback_data as cb
from handlers.people import Person
from handlers.press import Page
from handlers.replies import t
from storage import citizens
from storage.enums import Purpose


@dataclass(frozen=True)
class ConsentGate:
    """One flow's purpose and its catalog keys (`<flow>.unregistered`, `<flow>.ask_consent`,
    `<flow>.button.consent`); its consent button carries `v1:<callback flow>:consent`."""

    purpose: Purpose
    catalog_prefix: str
    callback_flow: str

    async def consents(self, context: ContextTypes.DEFAULT_TYPE, person: Person) -> bool:
        """True if the person consented to the purpose."""
        async with services_of(context).db.session(readonly=True) as session:
            return await citizens.has_consent(
                person.telegram_user_id, self.purpose, session=session
            )

    async def ask(self, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
        """Explain the purpose and offer one button to consent."""
        lang = person.language
        label = t(context, lang, f"{self.catalog_prefix}.button.consent")
        button = InlineKeyboardButton(label, callback_data=cb.encode(self.callback_flow, "consent"))
        await context.bot.send_message(
            person.telegram_user_id,
            t(context, lang, f"{self.catalog_prefix}.ask_consent"),
            reply_markup=InlineKeyboardMarkup([[button]]),
        )

    async def admit(self, context: ContextTypes.DEFAULT_TYPE, person: Person) -> bool:
        """True if the person may go in; otherwise they were told what to do first."""
        if not person.registered:
            await context.bot.send_message(
                person.telegram_user_id,
                t(context, person.language, f"{self.catalog_prefix}.unregistered"),
            )
            return False
        if not await self.consents(context, person):
            await self.ask(context, person)
            return False
        return True

    async def open(self, context: ContextTypes.DEFAULT_TYPE, person: Person, page: Page) -> None:
        """Send the flow's first page, once the person may go in."""
        if not await self.admit(context, person):
            return
        text, markup = await page(context, person)
        await context.bot.send_message(person.telegram_user_id, text, reply_markup=markup)

    async def withdrawn(
        self, query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, person: Person
    ) -> bool:
        """True (and the press answered, consent asked for again) if consent is gone."""
        if await self.consents(context, person):
            return False
        await query.answer()
        await self.ask(context, person)
        return True
