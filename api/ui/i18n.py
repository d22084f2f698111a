"""The UI's words in 中文 and English: one TOML catalogue per language, chosen per request."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request

LANGUAGES = ("zh-CN", "en")
LANG_COOKIE = "lastmile_lang"
LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """Every message of one language, keyed by dotted name (`status.issued`)."""
    with (LOCALES / f"{language}.toml").open("rb") as file:
        return _flatten(tomllib.load(file))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@dataclass(frozen=True)
class Translator:
    """`t("key", name=value)`: the message in this language, with its {placeholders} filled."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        text = self.get(key)
        if text is None:
            raise KeyError(f"no UI message {key!r} in {self.language} or any other language")
        return text.format(**values) if values else text

    def get(self, key: str, default: str | None = None) -> str | None:
        # A message missing in one language falls back to the other, never to a blank.
        for language in (self.language, *LANGUAGES):
            if key in catalogue(language):
                return catalogue(language)[key]
        return default

    @property
    def other(self) -> str:
        return next(code for code in LANGUAGES if code != self.language)


def language_for(request: Request, default: str) -> str:
    """`?lang=` when it names a language, else the cookie, else the configured default."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return default if default in LANGUAGES else LANGUAGES[0]
