"""The daily digest is written once a day; every template renders in 中文 and English."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from notifications.compose import LANGUAGES, Composer
from notifications.digest import DigestItem, DigestWriter
from notifications.smtp_config import SmtpUrlError, parse_smtp_url
from tests.conftest import ManualClock
from tests.notifications.conftest import CLERK, CONTACT, EVALUATOR, RESPONSIBLE, Mail
from tests.smtp import SmtpServer

TEMPLATES = [
    "issued", "reminder", "reminder_unacknowledged", "reminder_due_soon", "reminder_due_today",
    "reminder_overdue", "reminder_verification", "escalation_1", "escalation_2", "escalation_3",
    "rejected", "verified", "extension_granted", "extension_denied",
]  # fmt: skip


def test_the_digest_is_written_once_a_day_per_contact(
    mail: Mail, clock: ManualClock, smtp_server: SmtpServer
) -> None:
    first, second, third = mail.issue(count=3)
    app = mail.lastmile.app
    app.acknowledge(first, CLERK, RESPONSIBLE)
    app.withdraw(third, EVALUATOR, "重复下达")
    digest = DigestWriter(mail.lastmile.records, mail.directory, mail.composer, clock)

    def items() -> list[DigestItem]:
        return [DigestItem.from_view(app.finding(f)) for f in (first, second, third)]

    assert digest.write(items()) == 1
    clock.advance(hours=3)
    assert digest.write(items()) == 0  # the same day: already queued
    mail.sender(smtp_server).send_due()

    (received,) = smtp_server.received
    assert received.recipients == (CONTACT,)
    assert received.message["Subject"] == (
        "【整改日报】泸溪县水利局：尚有2项整改事项未销号（2025年9月26日）"
    )
    assert "第1项 预算执行率低（问题1）" in received.text
    assert "第3项" not in received.text  # withdrawn findings are not open
    assert digest.write(items(), today=date(2025, 9, 26)) == 0
    clock.advance(days=1)
    assert digest.write(items()) == 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_with_an_escaped_html_part(template: str, language: str) -> None:
    finding = SimpleNamespace(
        id="f1", order_ref="泸财绩〔2025〕12号", ref="1", rejections=1,
        due_on=date(2025, 10, 27), original_due_on=date(2025, 10, 27),
        acknowledge_due_on=date(2025, 9, 30),
    )  # fmt: skip
    composer = Composer(language, "https://lastmile.example.cn/")

    rendered = composer.render(
        template,
        finding=finding,
        title="<script>预算执行率低</script>",
        department_name="泸溪县水利局",
        link=composer.finding_link("f1"),
        reason="理由 & 说明",
        days_left=5,
        overdue_days=3,
    )

    assert "泸财绩〔2025〕12号" in rendered.subject
    assert "\n" not in rendered.subject
    assert "<script>预算执行率低</script>" in rendered.text
    assert "&lt;script&gt;预算执行率低&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert "https://lastmile.example.cn/findings/f1" in rendered.text
    assert '<a href="https://lastmile.example.cn/findings/f1">' in rendered.html
    if template in {"rejected", "verified", "escalation_1", "extension_denied"}:
        assert "理由 & 说明" in rendered.text
        assert "理由 &amp; 说明" in rendered.html


def test_subjects_read_as_a_civil_servant_would_write_them() -> None:
    finding = SimpleNamespace(
        order_ref="泸财绩〔2025〕12号", ref="1", due_on=date(2025, 10, 27),
        original_due_on=date(2025, 10, 27), acknowledge_due_on=date(2025, 9, 30),
    )  # fmt: skip
    common = {"finding": finding, "title": "t", "department_name": "d", "link": "l"}
    composer = Composer()

    due = composer.render("reminder_due_soon", days_left=5, **common)
    overdue = composer.render("reminder_overdue", overdue_days=12, **common)

    assert due.subject == "【整改提醒】泸财绩〔2025〕12号 第1项：距整改期限还有5个工作日"
    assert overdue.subject == "【逾期提醒】泸财绩〔2025〕12号 第1项：已逾期12个工作日"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.cn", ("mail.example.cn", 25, None, None, False, False)),
        (
            "smtp://bot%40czj:p%3Ass@mail.example.cn:587?starttls=1",
            ("mail.example.cn", 587, "bot@czj", "p:ss", False, True),
        ),
        ("smtps://u:pw@mail.example.cn", ("mail.example.cn", 465, "u", "pw", True, False)),
    ],
)
def test_smtp_urls_are_parsed(url: str, expected: tuple[object, ...]) -> None:
    config = parse_smtp_url(url)

    got = (config.host, config.port, config.username, config.password)
    assert (*got, config.use_tls, config.start_tls) == expected


def test_the_smtp_password_never_shows() -> None:
    config = parse_smtp_url("smtp://user:s3cret@mail.example.cn:2525?timeout=5&helo=czj.example")

    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config)
    assert str(config) == "smtp://user:***@mail.example.cn:2525"
    assert (config.timeout, config.local_hostname) == (5.0, "czj.example")
    with pytest.raises(SmtpUrlError) as error:
        parse_smtp_url("smtp://user:s3cret@mail.example.cn:notaport")
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    "url", ["http://mail.example.cn", "smtp://", "smtps://h?starttls=1", "smtp://h?starttls=maybe"]
)
def test_bad_smtp_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(SmtpUrlError, match="LASTMILE_SMTP_URL"):
        parse_smtp_url(url)
