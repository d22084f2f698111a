"""Reading a posted form: what was typed is kept, and each bad field gets its own message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData, UploadFile

from api.ui.i18n import Translator

TEXT_LIMIT = 10_000


class FieldError(Exception):
    """A value the command's own checks refused, belonging next to one field."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


@dataclass
class Fields:
    """One submitted form; read each field once with the reader of its kind."""

    form: FormData
    t: Translator
    values: dict[str, str | list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, *, required: bool = True, max_length: int = TEXT_LIMIT) -> str:
        raw = self.form.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        self.values[name] = value
        if "\x00" in value:
            self.errors[name] = self.t("form.nul")
        elif required and not value:
            self.errors[name] = self.t("form.required")
        elif len(value) > max_length:
            self.errors[name] = self.t("form.too_long", limit=max_length, length=len(value))
        return value

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int:
        value = self.text(name, required=default is None, max_length=20)
        if not value and default is not None:
            return default
        if name in self.errors:
            return low
        if not value.isdigit() or not low <= int(value) <= high:
            self.errors[name] = self.t("form.integer", low=low, high=high)
            return low
        return int(value)

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.text(name, required=required, max_length=10)
        if not value or name in self.errors:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = self.t("form.date")
            return None

    def money(self, name: str) -> Decimal:
        value = self.text(name, required=False, max_length=24).replace(",", "")
        if not value:
            return Decimal(0)
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
            self.errors[name] = self.t("form.money")
            return Decimal(0)
        return amount

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.text(name, max_length=40)
        if value and value not in options:
            self.errors[name] = self.t("form.choice")
        return value

    def many(self, name: str, *, required: bool = True) -> list[str]:
        chosen = [v for v in self.form.getlist(name) if isinstance(v, str) and v]
        self.values[name] = chosen
        if required and not chosen:
            self.errors[name] = self.t("form.pick_one")
        return chosen

    def file(self, name: str) -> UploadFile | None:
        upload = self.form.get(name)
        if not isinstance(upload, UploadFile) or not upload.filename:
            self.errors[name] = self.t("form.file")
            return None
        return upload
