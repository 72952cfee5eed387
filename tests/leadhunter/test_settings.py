from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from leadhunter import env

REPO = Path(__file__).resolve().parents[2]


def run_manage(*args: str, tmp_path: Path, **environ: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(DATA_DIR=str(tmp_path), **environ)
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "DATABASE_URL",
            "mysql-ish://nope",
            "DATABASE_URL must start with postgres:// or sqlite:///",
        ),
        ("DATABASE_URL", "", "DATABASE_URL must start with postgres:// or sqlite:///"),
        ("DATABASE_URL", "postgres://localhost/", "DATABASE_URL must name a database"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL must look like redis://host:6379/0"),
        ("REDIS_URL", "redis://localhost:notaport/0", "REDIS_URL has an invalid port"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("CAPTURE_IMAP_URL", "pop3://crm:pw@mail.example.com", "CAPTURE_IMAP_URL must look like"),
        ("CAPTURE_ADDRESS", "crm+sam@example.com", "CAPTURE_ADDRESS must be a plain address"),
        ("EMAIL_CREDENTIALS_KEY", "too-short", "EMAIL_CREDENTIALS_KEY must be a Fernet key"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(tmp_path, variable, value, message):
    environ = {"DEBUG": "true", variable: value}
    result = run_manage("check", tmp_path=tmp_path, **environ)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"LeadHunter configuration error: {message}")
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = run_manage("check", tmp_path=tmp_path, DEBUG="false", ALLOWED_HOSTS="crm.example.com")

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "LeadHunter configuration error: SECRET_KEY must be set when DEBUG is off"
    )


@pytest.mark.parametrize("key", ["abcde", "x" * 60, "django-insecure-" + "k" * 50])
def test_a_weak_secret_key_is_refused_in_production(tmp_path, key):
    result = run_manage(
        "check", tmp_path=tmp_path, DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="crm.example.com"
    )

    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "LeadHunter configuration error: SECRET_KEY is too weak"
    )
    assert key not in result.stderr  # never echo a secret into the logs


def test_wildcard_allowed_hosts_is_refused_in_production(tmp_path):
    result = run_manage(
        "check",
        tmp_path=tmp_path,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="*",
    )

    assert result.returncode == 2
    assert "ALLOWED_HOSTS" in result.stderr


def test_deploy_check_passes_with_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="crm.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    first = env.secret_key(debug=True, data_dir=tmp_path)
    second = env.secret_key(debug=True, data_dir=tmp_path)

    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_is_the_default_database_in_wal_mode(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    database = env.database(data_dir=tmp_path)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "leadhunter.sqlite3")
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url_is_parsed(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://crm:s3cret@db.internal:5433/leadhunter")

    database = env.database(data_dir=tmp_path)

    assert database["ENGINE"] == "leadhunter.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "leadhunter",
    )
    assert database["PASSWORD"] == "s3cret"


def test_smtp_email_url(monkeypatch):
    monkeypatch.setenv(
        "EMAIL_URL", "smtp://mailer%40example.com:p%40ss@smtp.example.com:2525?tls=false"
    )

    config = env.email()

    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert config["EMAIL_HOST"] == "smtp.example.com"
    assert config["EMAIL_PORT"] == 2525
    assert config["EMAIL_HOST_USER"] == "mailer@example.com"
    assert config["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert config["EMAIL_USE_TLS"] is False


def test_console_email_is_the_default(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)

    assert env.email() == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_bad_email_url_names_the_variable(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "pigeon://coop")

    with pytest.raises(env.ConfigError, match="EMAIL_URL"):
        env.email()


def test_error_messages_never_print_a_password(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "oracle://admin:hunter2@db/crm")

    with pytest.raises(env.ConfigError) as error:
        env.database(data_dir=tmp_path)

    assert "hunter2" not in str(error.value)


def test_a_capture_mailbox_needs_its_address(tmp_path):
    result = run_manage(
        "check",
        tmp_path=tmp_path,
        DEBUG="true",
        CAPTURE_IMAP_URL="imaps://crm:secret-pw@imap.example.com/INBOX",
    )

    assert result.returncode == 2
    assert "CAPTURE_ADDRESS must be set with CAPTURE_IMAP_URL" in result.stderr
    assert "secret-pw" not in result.stderr


def test_a_capture_imap_url_error_never_prints_its_password(tmp_path):
    result = run_manage(
        "check", tmp_path=tmp_path, DEBUG="true", CAPTURE_IMAP_URL="ftp://crm:secret-pw@x/INBOX"
    )

    assert result.returncode == 2
    assert "secret-pw" not in result.stderr


def test_without_debug_no_credentials_key_is_made_up():
    assert env.fernet_key("NO_SUCH_VARIABLE_SET", debug=False, secret_key="k" * 50) == ""
    derived = env.fernet_key("NO_SUCH_VARIABLE_SET", debug=True, secret_key="k" * 50)
    assert len(derived) == 44


@pytest.mark.django_db
def test_postgresql_sessions_sort_in_memory_and_compile_no_jit():
    """The reports' year-long aggregates sort within 16 MB (4 MB spilled them to disk) and
    skip JIT compilation, which cost more than it saved on page queries."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): the settings are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    assert (work_mem, jit) == ("16MB", "off")
