"""`/start`: language → age band → consent per purpose → optional district → welcome.

Nothing personal is stored before consent: the choices made before it live in the
conversation (`user_data`, memory only). Under 10 nothing is stored at all; 10–19 confirm a
parent's or guardian's agreement first (PDPA s.20). A `/start` payload waits through all of
this and its flow runs at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.i18n.catalog import LANGUAGES, Raw
from bot.services import AnyApplication, Services, services_of
from handlers import callback_data as cb
from handlers.deep_links import abandon, find_link, valid_payload
from handlers.help import help_text
from handlers.menus import set_chat_menu
from handlers.people import (
    CHOSEN_LANGUAGE_KEY,
    Person,
    as_language,
    language_from_telegram,
    load_person,
)
from handlers.replies import answer_expired, edit, reply, t
from storage import citizens
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Language, Purpose
from storage.errors import AlreadyRegistered

FLOW = "onb"
DRAFT_KEY = "onboarding"
CHECKED, UNCHECKED = "☑", "☐"
T = TypeVar("T")
Step = Literal["language", "age", "guardian", "consent", "district"]


@dataclass
class OnboardingDraft:
    """What a person chose so far; kept in memory only, until they consent."""

    payload: str | None = None
    language: Language = "th"
    age_band: AgeBand | None = None
    guardian_confirmed: bool = False
    consents: set[Purpose] = field(default_factory=set)
    step: Step = "language"
    message_id: int | None = None


def register(app: AnyApplication) -> None:
    """Add /start and the onboarding buttons."""
    app.add_handler(CommandHandler("start", _on_start))
    app.add_handler(CallbackQueryHandler(_on_button, pattern=cb.pattern(FLOW)))


def _draft(context: ContextTypes.DEFAULT_TYPE) -> OnboardingDraft | None:
    draft = context.user_data.get(DRAFT_KEY) if context.user_data is not None else None
    return draft if isinstance(draft, OnboardingDraft) else None


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Begin onboarding, or welcome back a registered person and run their link's flow."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or update.effective_message is None:
        return
    person = await load_person(update, context)
    if chat.type != ChatType.PRIVATE:
        await _ask_for_private_chat(update, context, person)
        return
    payload = valid_payload(context.args[0]) if context.args else None
    if person.registered:
        _drop_draft(context)
        await reply(
            update, context, person.language, "onboarding.welcome_back", help=_help(context, person)
        )
        await _run_payload(update, context, person, payload)
        return
    services = services_of(context)
    preferred = language_from_telegram(user, services.settings.default_language)
    order = sorted(LANGUAGES, key=lambda lang: lang != preferred)
    draft = OnboardingDraft(payload=payload, language=preferred)
    text = "\n\n".join(t(context, lang, "onboarding.choose_language") for lang in order)
    buttons = [
        InlineKeyboardButton(
            t(context, lang, f"language.name.{lang}"), callback_data=cb.encode(FLOW, "lang", lang)
        )
        for lang in order
    ]
    message = await context.bot.send_message(
        chat.id, text, reply_markup=InlineKeyboardMarkup([buttons])
    )
    draft.message_id = message.message_id
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = draft


async def _ask_for_private_chat(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person
) -> None:
    username = context.bot.username
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(context, person.language, "button.open_private"),
                    url=f"https://t.me/{username}?start=group",
                )
            ]
        ]
    )
    await reply(update, context, person.language, "group.private_only", markup=markup)


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every onboarding button; anything not matching the current step has expired."""
    query = update.callback_query
    if query is None:
        return
    draft = _draft(context)
    data = cb.decode(query.data)
    message_id = query.message.message_id if query.message else None
    if draft is None or data is None or message_id != draft.message_id:
        person = await load_person(update, context)
        await answer_expired(query, context, person.language)
        return
    handler = _STEP_ACTIONS.get((draft.step, data.action))
    if handler is None or not await handler(update, context, draft, data.arg()):
        await answer_expired(query, context, draft.language)
        return
    await query.answer()


async def _choose_language(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    language = as_language(arg)
    if language is None or update.callback_query is None:
        return False
    draft.language = language
    if context.user_data is not None:
        context.user_data[CHOSEN_LANGUAGE_KEY] = language
    services = services_of(context)
    person = await load_person(update, context)  # an admin from ADMIN_IDS sees their menu
    await set_chat_menu(
        context.bot, update.callback_query.from_user.id, person.role, language, services.catalogs
    )
    draft.step = "age"
    rows = [
        [_button(context, language, f"age.{band.name}", "age", band.name) for band in pair]
        for pair in _pairs(list(AgeBand))
    ]
    await edit(
        update.callback_query,
        t(context, language, "onboarding.choose_age"),
        InlineKeyboardMarkup(rows),
    )
    return True


async def _choose_age(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    band = AgeBand.__members__.get(arg or "")
    query = update.callback_query
    if band is None or query is None:
        return False
    lang = draft.language
    if band.is_under_10:
        _drop_draft(context)
        await edit(query, t(context, lang, "onboarding.under_10"))
        await abandon(context, draft.payload, "under_10")
        return True
    draft.age_band = band
    if band.needs_guardian:
        draft.step = "guardian"
        markup = InlineKeyboardMarkup(
            [
                [_button(context, lang, "button.guardian_yes", "guardian", "yes")],
                [_button(context, lang, "button.guardian_no", "guardian", "no")],
            ]
        )
        await edit(query, t(context, lang, "onboarding.guardian_question"), markup)
        return True
    await _show_consent(update, context, draft)
    return True


async def _confirm_guardian(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    query = update.callback_query
    if arg not in {"yes", "no"} or query is None:
        return False
    if arg == "no":
        _drop_draft(context)
        await edit(query, t(context, draft.language, "onboarding.guardian_needed"))
        await abandon(context, draft.payload, "no_guardian_agreement")
        return True
    draft.guardian_confirmed = True
    await _show_consent(update, context, draft)
    return True


async def _show_consent(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft
) -> None:
    query = update.callback_query
    assert query is not None
    draft.step = "consent"
    lang = draft.language
    lines = [
        t(
            context,
            lang,
            "onboarding.consent_line",
            mark=CHECKED if purpose in draft.consents else UNCHECKED,
            purpose=t(context, lang, f"purpose.{purpose.value}.name"),
            description=t(context, lang, f"purpose.{purpose.value}.description"),
        )
        for purpose in Purpose
    ]
    rows = [
        [
            InlineKeyboardButton(
                f"{CHECKED if purpose in draft.consents else UNCHECKED} "
                + t(context, lang, f"purpose.{purpose.value}.name"),
                callback_data=cb.encode(FLOW, "toggle", purpose.name),
            )
        ]
        for purpose in Purpose
    ]
    rows.append([_button(context, lang, "button.consent_all", "all")])
    rows.append(
        [
            _button(context, lang, "button.consent_save", "save"),
            _button(context, lang, "button.consent_none", "none"),
        ]
    )
    text = t(
        context,
        lang,
        "onboarding.consent",
        purposes=Raw("\n\n".join(lines)),
        retention_days=services_of(context).settings.retention_days,
    )
    await edit(query, text, InlineKeyboardMarkup(rows))


async def _toggle_purpose(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    purpose = Purpose.__members__.get(arg or "")
    if purpose is None:
        return False
    draft.consents ^= {purpose}
    await _show_consent(update, context, draft)
    return True


async def _accept_all(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    draft.consents = set(Purpose)
    return await _save_consents(update, context, draft, arg)


async def _decline_all(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    query = update.callback_query
    assert query is not None
    _drop_draft(context)
    await edit(query, t(context, draft.language, "onboarding.declined"))
    await abandon(context, draft.payload, "declined_consent")
    return True


async def _save_consents(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    query = update.callback_query
    if query is None or draft.age_band is None:
        return False
    if not draft.consents:
        return await _decline_all(update, context, draft, arg)
    services = services_of(context)
    new = NewCitizen(
        telegram_user_id=query.from_user.id,
        language=draft.language,
        age_band=draft.age_band,
        guardian_confirmed=draft.guardian_confirmed,
        district=None,
    )
    try:
        async with services.db.session() as session:
            await citizens.register_citizen(
                new, {p: p in draft.consents for p in Purpose}, session=session
            )
    except AlreadyRegistered:
        pass  # a repeated tap after a slow save: the first one won, carry on
    draft.step = "district"
    await _ask_district(update, context, draft, services)
    return True


async def _ask_district(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, services: Services
) -> None:
    query = update.callback_query
    assert query is not None
    lang = draft.language
    rows = [
        [
            InlineKeyboardButton(d.name(lang), callback_data=cb.encode(FLOW, "district", d.code))
            for d in pair
        ]
        for pair in _pairs(list(services.districts))
    ]
    rows.append([_button(context, lang, "button.skip", "skip")])
    await edit(query, t(context, lang, "onboarding.choose_district"), InlineKeyboardMarkup(rows))


async def _choose_district(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    services = services_of(context)
    district = services.district(arg)
    query = update.callback_query
    if district is None or query is None:
        return False
    async with services.db.session() as session:
        await citizens.set_district(query.from_user.id, district.code, session=session)
    await edit(
        query,
        t(
            context,
            draft.language,
            "onboarding.district_saved",
            district=district.name(draft.language),
        ),
    )
    await _finish(update, context, draft)
    return True


async def _skip_district(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft, arg: str | None
) -> bool:
    query = update.callback_query
    assert query is not None
    await edit(query, t(context, draft.language, "onboarding.district_skipped"))
    await _finish(update, context, draft)
    return True


async def _finish(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: OnboardingDraft
) -> None:
    _drop_draft(context)
    person = await load_person(update, context)
    await set_chat_menu(
        context.bot,
        person.telegram_user_id,
        person.role,
        person.language,
        services_of(context).catalogs,
    )
    await reply(update, context, person.language, "onboarding.welcome", help=_help(context, person))
    await _run_payload(update, context, person, draft.payload)


async def _run_payload(
    update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person, payload: str | None
) -> None:
    if payload is None:
        return
    link = find_link(context, payload)
    if link is None:
        await reply(update, context, person.language, "deeplink.invalid")
        return
    await link.flow(update, context, person, payload)


def _help(context: ContextTypes.DEFAULT_TYPE, person: Person) -> Raw:
    return Raw(help_text(context, person))


def _button(
    context: ContextTypes.DEFAULT_TYPE, language: str, key: str, action: str, *args: object
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t(context, language, key), callback_data=cb.encode(FLOW, action, *args)
    )


def _pairs(items: list[T]) -> list[list[T]]:
    """Two buttons a row: readable on a small phone."""
    return [items[i : i + 2] for i in range(0, len(items), 2)]


_STEP_ACTIONS = {
    ("language", "lang"): _choose_language,
    ("age", "age"): _choose_age,
    ("guardian", "guardian"): _confirm_guardian,
    ("consent", "toggle"): _toggle_purpose,
    ("consent", "all"): _accept_all,
    ("consent", "save"): _save_consents,
    ("consent", "none"): _decline_all,
    ("district", "district"): _choose_district,
    ("district", "skip"): _skip_district,
}
