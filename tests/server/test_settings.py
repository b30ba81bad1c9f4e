"""Settings from the environment: checked before anything is written, and said in one line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from casework import history
from server import settings


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No YEKUO_* variable but a data directory (not yet created) in a temporary folder."""
    for name in [n for n in os.environ if n.startswith("YEKUO_")]:
        monkeypatch.delenv(name)
    folder = tmp_path / "data"
    monkeypatch.setenv("YEKUO_DATA_DIR", str(folder))
    return folder


def test_defaults_name_a_sqlite_file_in_the_data_directory_and_keep_a_secret(
    data_dir: Path,
) -> None:
    assert settings.database_url() == f"sqlite+aiosqlite:///{data_dir / 'yekuo.db'}"
    assert not data_dir.exists()  # naming the database creates nothing

    loaded = settings.load()
    assert (loaded.token_hours, loaded.poll_seconds) == (12, 0.25)
    assert (loaded.login_max_failures, loaded.login_lock_minutes) == (5, 15)
    assert (loaded.login_account_max_failures, loaded.login_source_max_failures) == (20, 50)
    assert loaded.trusted_proxies == ()  # no proxy is trusted unless named
    key = data_dir / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert loaded.secret == key.read_text() and len(loaded.secret) >= 48
    assert settings.load().secret == loaded.secret
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]  # and no database


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("YEKUO_POLL_SECONDS", "abc", "a number of seconds greater than 0, not 'abc'"),
        ("YEKUO_POLL_SECONDS", "-1", "a number of seconds greater than 0, not '-1'"),
        ("YEKUO_POLL_SECONDS", "0", "a number of seconds greater than 0, not '0'"),
        ("YEKUO_POLL_SECONDS", "nan", "a number of seconds greater than 0, not 'nan'"),
        ("YEKUO_POLL_SECONDS", "inf", "a number of seconds greater than 0, not 'inf'"),
        ("YEKUO_TOKEN_HOURS", "0", "a whole number of hours greater than 0, not '0'"),
        ("YEKUO_TOKEN_HOURS", "1.5", "a whole number of hours greater than 0, not '1.5'"),
        ("YEKUO_LOGIN_MAX_FAILURES", "five", "a whole number greater than 0, not 'five'"),
        ("YEKUO_LOGIN_LOCK_MINUTES", "-5", "a whole number of minutes greater than 0, not '-5'"),
        ("YEKUO_LOGIN_SOURCE_MAX_FAILURES", "0", "a whole number greater than 0, not '0'"),
        ("YEKUO_LOGIN_ACCOUNT_MAX_FAILURES", "x", "a whole number greater than 0, not 'x'"),
        (
            "YEKUO_LOGIN_ACCOUNT_MAX_FAILURES",
            "9",
            "at least twice YEKUO_LOGIN_MAX_FAILURES (10), so that one address cannot lock an "
            "account, not 9",
        ),
        (
            "YEKUO_TRUSTED_PROXIES",
            "10.0.0.1, proxy.internal",
            "a list of IP addresses or networks separated by commas "
            "(such as 10.0.0.5,192.168.0.0/16), not 'proxy.internal'",
        ),
        (
            "YEKUO_TRUSTED_PROXIES",
            "*",
            "a list of IP addresses or networks separated by commas "
            "(such as 10.0.0.5,192.168.0.0/16), not '*'",
        ),
    ],
)
def test_a_bad_number_is_named_and_nothing_is_written(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as raised:
        settings.load()
    assert str(raised.value) == f"{variable} must be {message}"
    assert not data_dir.exists()


def test_numbers_are_read(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in [
        ("YEKUO_POLL_SECONDS", " 1.5 "),
        ("YEKUO_TOKEN_HOURS", "2"),
        ("YEKUO_LOGIN_MAX_FAILURES", "3"),
        ("YEKUO_LOGIN_LOCK_MINUTES", "4"),
        ("YEKUO_LOGIN_ACCOUNT_MAX_FAILURES", "6"),
        ("YEKUO_LOGIN_SOURCE_MAX_FAILURES", "7"),
        ("YEKUO_TRUSTED_PROXIES", " 10.0.0.5 , 192.168.1.7/16,,2001:db8::/32 "),
        ("YEKUO_SECRET", "given-secret"),
    ]:
        monkeypatch.setenv(variable, value)
    loaded = settings.load()
    assert (loaded.poll_seconds, loaded.token_hours) == (1.5, 2)
    assert (loaded.login_max_failures, loaded.login_lock_minutes) == (3, 4)
    assert (loaded.login_account_max_failures, loaded.login_source_max_failures) == (6, 7)
    assert loaded.trusted_proxies == ("10.0.0.5/32", "192.168.0.0/16", "2001:db8::/32")
    assert loaded.secret == "given-secret"
    assert not data_dir.exists()  # a given secret is not kept on disk


def test_the_account_limit_follows_a_raised_per_address_limit(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YEKUO_LOGIN_MAX_FAILURES", "15")
    assert settings.load().login_account_max_failures == 30


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("not a database url", "is not a database URL"),
        ("postgresql://user:pw-9f3@host:port/db", "is not a database URL"),
        ("mysql://root:pw-9f3@localhost/yekuo", "names the driver 'mysql', which yekuo"),
        ("postgresql+psycopg2://u:pw-9f3@h/db", "names the driver 'postgresql+psycopg2', which"),
        ("sqlite://", "names an in-memory SQLite database"),
        ("sqlite:///:memory:", "names an in-memory SQLite database"),
    ],
)
def test_a_malformed_database_url_says_why_and_what_it_should_be(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, url: str, why: str
) -> None:
    monkeypatch.setenv("YEKUO_DATABASE_URL", url)
    with pytest.raises(settings.SettingsError) as raised:
        settings.load()
    message = str(raised.value)
    assert message.startswith(f"YEKUO_DATABASE_URL {why}"), message
    assert message.endswith(f"; use {settings.URL_FORMS}")
    assert "pw-9f3" not in message  # a URL may hold a password: never repeated
    assert not data_dir.exists()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///relative/yekuo.db",
        "sqlite+aiosqlite:////var/lib/yekuo/yekuo.db",
        "postgresql://postgres@127.0.0.1/yekuo",
        "postgres://postgres@db.example:6543/yekuo",
        "postgresql+asyncpg://yekuo:secret@db.example/yekuo",
    ],
)
def test_the_documented_url_forms_are_accepted(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("YEKUO_DATABASE_URL", url)
    assert settings.database_url() == url


def test_a_data_directory_that_is_a_file_is_named(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.parent.mkdir(exist_ok=True)
    data_dir.write_text("not a folder")
    with pytest.raises(settings.SettingsError) as raised:
        settings.load()
    assert str(raised.value).startswith("YEKUO_DATA_DIR must be a directory yekuo can keep")
    assert str(raised.value).endswith("or set YEKUO_SECRET")


def test_history_keys_come_from_the_secret_and_the_previous_ones(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YEKUO_SECRET", "the-new-secret")
    monkeypatch.setenv("YEKUO_SECRET_PREVIOUS", "  older-one\n the-oldest  ")
    loaded = settings.load()
    assert loaded.previous_secrets == ("older-one", "the-oldest")
    assert "older-one" not in repr(loaded) and "the-new-secret" not in repr(loaded)
    keys = loaded.history_keys()
    assert keys.current == history.derive_key("the-new-secret")
    assert keys.previous == (history.derive_key("older-one"), history.derive_key("the-oldest"))
    assert not data_dir.exists()  # a given secret writes nothing

    monkeypatch.delenv("YEKUO_SECRET_PREVIOUS")
    assert settings.load().history_keys().previous == ()
