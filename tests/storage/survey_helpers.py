"""Builders for survey and poll tests: a small valid survey file, imported and opened."""

from __future__ import annotations

import copy
from typing import Any

from storage.database import Database
from storage.models import Survey
from storage.surveys import (
    QuestionView,
    SurveyView,
    import_survey,
    open_survey,
    parse_survey_file,
    record_sent_poll,
    survey_view,
)

OFFICER = "tg:9"
FACILITATOR = "tg:7"

SMALL_SURVEY: dict[str, Any] = {
    "key": "needs_test",
    "title": {"th": "สำรวจความต้องการการเรียนรู้", "en": "Learning needs"},
    "categories": [
        {
            "key": "digital_skills",
            "name": {"th": "ทักษะดิจิทัล", "en": "Digital skills"},
            "unesco_feature": "learning_technologies",
            "sdgs": [4, 8, 9],
        },
        {
            "key": "languages",
            "name": {"th": "ภาษา", "en": "Languages"},
            "unesco_feature": "inclusive_learning",
            "sdgs": [4, 10],
        },
    ],
    "questions": [
        {
            "key": "topics",
            "multiple": True,
            "text": {"th": "ท่านสนใจเรียนรู้เรื่องใดบ้าง", "en": "What would you like to learn?"},
            "options": [
                {
                    "key": "digital",
                    "label": {"th": "ทักษะดิจิทัล", "en": "Digital skills"},
                    "category": "digital_skills",
                },
                {
                    "key": "languages",
                    "label": {"th": "ภาษา", "en": "Languages"},
                    "category": "languages",
                },
                {"key": "other", "label": {"th": "อื่น ๆ", "en": "Something else"}},
            ],
        },
        {
            "key": "format",
            "text": {"th": "ท่านสะดวกเรียนรู้รูปแบบใด", "en": "How would you like to learn?"},
            "options": [
                {"key": "class", "label": {"th": "ห้องเรียน", "en": "In a class"}},
                {"key": "online", "label": {"th": "ออนไลน์", "en": "Online"}},
            ],
        },
        {
            "key": "time",
            "text": {"th": "ช่วงเวลาใดที่ท่านสะดวก", "en": "When suits you?"},
            "options": [
                {"key": "weekday", "label": {"th": "วันธรรมดา", "en": "Weekdays"}},
                {"key": "weekend", "label": {"th": "วันหยุดสุดสัปดาห์", "en": "Weekends"}},
            ],
        },
    ],
}


def survey_file(**changes: Any) -> dict[str, Any]:
    """A deep copy of SMALL_SURVEY with top-level fields replaced."""
    data = copy.deepcopy(SMALL_SURVEY)
    data.update(changes)
    return data


async def imported(db: Database, data: dict[str, Any] | None = None) -> Survey:
    """Import `data` (default SMALL_SURVEY) in its own committed session; a draft."""
    async with db.session() as session:
        return await import_survey(parse_survey_file(data or SMALL_SURVEY), session=session)


async def opened(db: Database, data: dict[str, Any] | None = None) -> SurveyView:
    """Import and open a survey; return its view."""
    survey = await imported(db, data)
    assert survey.id is not None
    async with db.session() as session:
        await open_survey(survey.id, actor=OFFICER, session=session)
        view = await survey_view(survey.id, session=session)
    assert view is not None
    return view


async def sent_privately(
    db: Database, question: QuestionView, telegram_user_id: int, poll_id: str, **kwargs: Any
) -> None:
    """Record that `question` went to this person's private chat as poll `poll_id`."""
    options: dict[str, Any] = {"language": "th", "option_keys": question.option_keys}
    options.update(kwargs)
    async with db.session() as session:
        await record_sent_poll(
            poll_id,
            chat_id=telegram_user_id,
            message_id=100,
            kind="survey",
            question_id=question.id,
            recipient_telegram_id=telegram_user_id,
            session=session,
            **options,
        )
