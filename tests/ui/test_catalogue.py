"""The message catalogues: the same keys and placeholders in 中文 and English."""

from __future__ import annotations

import re

from api.ui.i18n import LANGUAGES, Translator, catalogue

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_exists_in_every_language() -> None:
    zh, en = (set(catalogue(language)) for language in LANGUAGES)
    assert zh - en == set()
    assert en - zh == set()


def test_placeholders_match_across_languages() -> None:
    zh, en = (catalogue(language) for language in LANGUAGES)
    differ = {
        key: (zh[key], en[key])
        for key in zh
        if set(PLACEHOLDER.findall(zh[key])) != set(PLACEHOLDER.findall(en[key]))
    }
    assert differ == {}


def test_a_message_is_filled_in() -> None:
    assert Translator("zh-CN")("badge.overdue", days=3) == "逾期 3 个工作日"
    assert Translator("en")("badge.overdue", days=3) == "3 working days overdue"
