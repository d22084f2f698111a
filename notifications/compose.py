"""Render a message from its templates (中文 or English) and build the MIME message to send."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.calendar import CHINA_TZ
from notifications.tables import OutboxRow

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("zh-CN", "en")
STATUS_NAMES = {
    "zh-CN": {
        "issued": "已下达(待签收)",
        "acknowledged": "整改中",
        "rectified": "待核查",
        "verified": "已销号",
        "withdrawn": "已撤销",
    },
    "en": {
        "issued": "issued (not acknowledged)",
        "acknowledged": "in rectification",
        "rectified": "awaiting verification",
        "verified": "verified",
        "withdrawn": "withdrawn",
    },
}
SIGNATURE = {"zh-CN": "整改通 · 预算绩效管理整改跟踪系统", "en": "Lastmile rectification tracking"}


@dataclass(frozen=True)
class Rendered:
    """One message's subject and its two bodies."""

    subject: str
    text: str
    html: str


def chinese_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def english_day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


class Composer:
    """Renders templates in one language; the HTML part is autoescaped, the text part is not."""

    def __init__(
        self,
        language: str = "zh-CN",
        base_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.language = language if language in LANGUAGES else "zh-CN"
        self.base_url = base_url.rstrip("/")
        self.text = self._environment(autoescape=False)
        self.html = self._environment(autoescape=True)

    def _environment(self, *, autoescape: bool) -> Environment:
        day: Callable[[date], str] = chinese_day if self.language == "zh-CN" else english_day
        names = STATUS_NAMES[self.language]
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=autoescape,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        environment.filters["day"] = day
        environment.filters["status"] = lambda status: names.get(status, status)
        return environment

    def finding_link(self, finding_id: UUID | str) -> str:
        return f"{self.base_url}/findings/{finding_id}"

    def render(self, template: str, **context: Any) -> Rendered:
        """Render `<template>.<language>.j2` into a subject, a text and an HTML body."""
        values = {
            "finding": None,
            "reason": "",
            "items": (),
            "link": f"{self.base_url}/findings",
            "signature": SIGNATURE[self.language],
            **context,
        }
        name = f"{template}.{self.language}.j2"
        text_template = self.text.get_template(name)
        subject_parts = text_template.blocks["subject"](text_template.new_context(values))
        subject = " ".join("".join(subject_parts).split())
        values["subject"] = subject
        text = text_template.render(values, layout=f"layout.{self.language}.txt.j2")
        html = self.html.get_template(name).render(values, layout=f"layout.{self.language}.html.j2")
        return Rendered(subject, _tidy(text), html)


def build_message(row: OutboxRow, mail_from: str) -> EmailMessage:
    """The MIME message of a row: multipart/alternative (text, HTML), UTF-8, its own Message-ID.

    Built from the row alone, so every attempt sends the same message.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at.astimezone(CHINA_TZ))
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message["Content-Language"] = row.language
    message.set_content(row.text_body, charset="utf-8")
    message.add_alternative(row.html_body, subtype="html", charset="utf-8")
    return message


def _tidy(text: str) -> str:
    """At most one blank line in a row, so optional sections leave no holes."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def finding_context(view: Any, department_name: str, link: str) -> Mapping[str, Any]:
    """The variables every finding template reads."""
    title = view.title or view.description[:60]
    return {"finding": view, "title": title, "department_name": department_name, "link": link}
