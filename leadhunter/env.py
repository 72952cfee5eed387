"""Reading LeadHunter's configuration from the environment.

Every setting comes from an environment variable; these helpers parse them and turn a bad
value into one clear line naming the variable, instead of a traceback at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


def fail(error: ConfigError) -> None:
    """Stop the process with a single readable line (no traceback)."""
    sys.stderr.write(f"LeadHunter configuration error: {error}\n")
    raise SystemExit(2)


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def boolean(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def integer(name: str, *, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def word_list(name: str, default: str = "") -> list[str]:
    return [word.strip() for word in text(name, default).split(",") if word.strip()]


def secret_key(*, debug: bool, data_dir: Path) -> str:
    """SECRET_KEY from the environment; in development a key generated once and kept on disk."""
    key = text("SECRET_KEY")
    if key:
        if not debug and _is_weak_secret_key(key):
            # Django's own check (security.W009) only warns, and only under `check --deploy`;
            # a guessable key lets anyone forge sessions, reset links and one-click email links.
            raise ConfigError(
                "SECRET_KEY is too weak for production: use 50 or more random characters, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return key
    if not debug:
        raise ConfigError("SECRET_KEY must be set when DEBUG is off")
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _is_weak_secret_key(key: str) -> bool:
    """The rule of Django's security.W009: short, few distinct characters, or Django's sample."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


def database(*, data_dir: Path) -> dict:
    """DATABASE_URL (postgres:// or sqlite:///) or, unset, a SQLite file in the data folder."""
    raw = os.environ.get("DATABASE_URL")
    if raw is None:
        return sqlite_database(data_dir / "leadhunter.sqlite3")
    url = raw.strip()
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql", "pgsql"}:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if not parsed.get("NAME"):
            raise ConfigError(
                "DATABASE_URL must name a database, e.g. postgres://user@host:5432/leadhunter"
            )
        # JIT compilation pays off for hour-long analytics, not for page queries: it added
        # ~360 ms to the funnel report's 0.5 s query (docs/performance.md). Off per session.
        # PostgreSQL's default 4 MB of sort memory made the reports over a year of a team's
        # leads sort on disk (own-your-leads, forecast: a third of their query time); 16 MB
        # keeps them in memory. Per sort, so at most a few times that per connection.
        options = parsed.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off -c work_mem=16MB".strip()
        # Django's backend, with psycopg's own (C) timestamp loader: leadhunter/postgresql.
        parsed["ENGINE"] = "leadhunter.postgresql"
        return parsed
    if scheme == "sqlite":
        path = unquote(urlsplit(url).path)
        if not path or path == "/":
            raise ConfigError("DATABASE_URL must name a file, e.g. sqlite:////var/lib/lh.sqlite3")
        return sqlite_database(Path(path))
    raise ConfigError(
        f"DATABASE_URL must start with postgres:// or sqlite:///, got {redact(url)!r}"
    )


def sqlite_database(path: Path) -> dict:
    # WAL + a long busy timeout + IMMEDIATE transactions let the web server and the Celery
    # worker write at the same time without "database is locked" errors.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
    }


def redis_url() -> str | None:
    """REDIS_URL (redis:// or rediss://), or None for the embedded broker."""
    raw = os.environ.get("REDIS_URL")
    if raw is None:
        return None
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ConfigError(f"REDIS_URL must look like redis://host:6379/0, got {redact(url)!r}")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ConfigError(f"REDIS_URL has an invalid port: {redact(url)!r}") from None
    return url


def email(prefix: str = "EMAIL_URL") -> dict[str, object]:
    """EMAIL_URL: smtp://user:password@host:587?tls=true, smtp+ssl://..., console:// or locmem://."""
    url = text(prefix, "console://")
    parts = urlsplit(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ConfigError(f"{prefix} must start with smtp://, smtp+ssl:// or console://")
    config: dict[str, object] = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme.startswith("smtp"):
        if not parts.hostname:
            raise ConfigError(f"{prefix} must name the SMTP host, e.g. smtp://mail.example.com:587")
        query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
        config.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtp+ssl" else 587),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtp+ssl",
            EMAIL_USE_TLS=parts.scheme == "smtp" and query.get("tls", "true") in TRUE_WORDS,
            EMAIL_TIMEOUT=20,
        )
    return config


def imap_url(name: str) -> str:
    """An IMAP mailbox as imaps://user:password@host[:port]/FOLDER (imap:// without TLS), or ""."""
    url = text(name)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in {"imap", "imaps"} or not parts.hostname or not parts.username:
        raise ConfigError(
            f"{name} must look like imaps://user:password@imap.example.com/INBOX, "
            f"got {redact(url)!r}"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {redact(url)!r}") from None
    return url


def capture_address(name: str) -> str:
    """The capture mailbox's address (crm@example.com), lower-cased; "" when unset."""
    address = text(name).lower()
    if address and (address.count("@") != 1 or "+" in address or " " in address):
        raise ConfigError(f"{name} must be a plain address like crm@example.com, got {address!r}")
    return address


def fernet_key(name: str, *, debug: bool, secret_key: str) -> str:
    """A Fernet key (32 url-safe base64 bytes); in development one derived from SECRET_KEY.

    Without DEBUG an unset key is "": the mailbox connection then says it is not configured
    instead of encrypting passwords with a key that changes with SECRET_KEY.
    """
    key = text(name)
    if key:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ConfigError(
                f"{name} must be a Fernet key (44 characters), e.g. python3 -c "
                "'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
            )
        return key
    if not debug:
        return ""
    digest = hashlib.sha256(f"email-credentials:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def redact(url: str) -> str:
    """The URL without its password, safe to print."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
