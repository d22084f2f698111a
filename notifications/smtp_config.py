"""LASTMILE_SMTP_URL parsed into a connection config; the password never reaches a log."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = {"smtp": 25, "smtps": 465}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SmtpUrlError(ValueError):
    """LASTMILE_SMTP_URL is malformed; the message shows the URL without its password."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the SMTP server."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # smtps://: TLS from the first byte (port 465)
    start_tls: bool = False  # ?starttls=1: upgrade a plain connection (port 587)
    timeout: float = 30.0  # seconds per command
    local_hostname: str | None = None  # ?helo=: the name we give in EHLO; default our FQDN

    def __str__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        scheme = "smtps" if self.use_tls else "smtp"
        query = "?starttls=1" if self.start_tls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{query}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse `smtp://user:pass@host:port` or `smtps://…`; options ?starttls=1 ?timeout= ?helo=."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        # Not urlsplit's own words: they quote the "port" it read, which is the password's
        # tail when the password holds an unencoded / ? or #.
        raise SmtpUrlError(
            f"LASTMILE_SMTP_URL {_redacted(url)!r}: the host or port is not valid "
            "(percent-encode any / ? # @ : in the user name or password)"
        ) from None
    if parts.scheme not in SCHEMES:
        raise SmtpUrlError(
            f"LASTMILE_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme or url!r}"
        )
    if not parts.hostname:
        raise SmtpUrlError(f"LASTMILE_SMTP_URL {_redacted(url)!r} names no host")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    start_tls = _flag(query.get("starttls", "0"), "starttls")
    if start_tls and parts.scheme == "smtps":
        raise SmtpUrlError("LASTMILE_SMTP_URL: smtps:// is TLS already; drop ?starttls=1")
    return SmtpConfig(
        host=parts.hostname,
        port=port or SCHEMES[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=parts.scheme == "smtps",
        start_tls=start_tls,
        timeout=_seconds(query.get("timeout", "30")),
        local_hostname=query.get("helo") or None,
    )


def _flag(value: str, name: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise SmtpUrlError(f"LASTMILE_SMTP_URL: ?{name}= must be 1 or 0, not {value!r}")


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise SmtpUrlError(f"LASTMILE_SMTP_URL: ?timeout= must be 1-600 seconds, not {value!r}")
    return seconds


def _redacted(url: str) -> str:
    """The URL with any password replaced, for error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else url
