"""Settings are read once from the environment and a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import SettingsError, load_settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    settings = load_settings()

    assert settings.data_dir == Path("./var")
    assert not settings.uses_postgres
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'var' / 'events.sqlite3'}"
    assert settings.language == "zh-CN"


def test_a_postgresql_url_selects_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASTMILE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")

    settings = load_settings()

    assert settings.uses_postgres
    assert settings.sqlalchemy_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("LASTMILE_DATABASE_URL", "mysql://root@localhost/test", "must be a PostgreSQL URL"),
        ("LASTMILE_LANGUAGE", "fr", "zh-CN"),
        ("LASTMILE_POLICY", "/nonexistent/policy.toml", "no policy file"),
    ],
)
def test_a_bad_value_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert variable in str(raised.value)
    assert complaint in str(raised.value)


def test_a_dotenv_file_supplies_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LASTMILE_LANGUAGE=en\nLASTMILE_DATA_DIR=/srv/lastmile\n")

    settings = load_settings()

    assert (settings.language, settings.data_dir) == ("en", Path("/srv/lastmile"))
