"""The settings of the last `make run`, for the commands a person runs from a shell afterwards.

`make run` serves with development settings (the Makefile turns DEBUG on; the links in emails
follow the port it serves) plus whatever the environment gave it (DATA_DIR, DATABASE_URL,
REDIS_URL, EMAIL_URL, ...). Before anything else it saves them to `var/make-run.env` in the
project folder, and `manage.py` loads that file: `.venv/bin/python manage.py import_leads ...`
typed in another terminal works on the same database, with the same settings and the same
SITE_URL as the server, without repeating them.

Production never reads it, so a deployment with DEBUG off and no SECRET_KEY still refuses to
start: only `make run` writes the file, the image leaves `var/` out (.dockerignore), and the
file is ignored altogether when the environment sets DEBUG to false, or points DATA_DIR at
another data folder than the one `make run` served (a test's or a second install's). A
variable set in the environment always wins over the file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dotenv import dotenv_values, set_key

from leadhunter.env import FALSE_WORDS

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_ENV_FILE = BASE_DIR / "var" / "make-run.env"

# Every variable leadhunter/settings.py (or gunicorn, for WEB_CONCURRENCY) reads: README.md's
# "Configuration" table lists the same names (tests/leadhunter/test_run_env.py holds them equal).
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
    "TIME_ZONE",
    "HTTPS",
    "BEHIND_PROXY",
    "DATA_DIR",
    "IMPORT_MAX_MB",
    "CELERY_WORKER_CONCURRENCY",
    "CELERY_VISIBILITY_TIMEOUT",
    "WORKER_HEARTBEAT_INTERVAL",
    "WEB_CONCURRENCY",
    "CAPTURE_IMAP_URL",
    "CAPTURE_ADDRESS",
    "EMAIL_CREDENTIALS_KEY",
    "LOG_LEVEL",
)


def site_url(environ: os._Environ[str] | dict[str, str]) -> str:
    """SITE_URL as set, else this machine's address on the port `make run` serves."""
    return environ.get("SITE_URL") or f"http://127.0.0.1:{environ.get('PORT') or 8000}"


def save(
    environ: os._Environ[str] | dict[str, str] | None = None, path: Path = RUN_ENV_FILE
) -> Path:
    """Write the settings `make run` serves with (from `environ`) to `path`, replacing it."""
    environ = os.environ if environ is None else environ
    values = {name: environ[name] for name in SETTINGS_VARIABLES if name in environ}
    values["SITE_URL"] = site_url(environ)
    values["DATA_DIR"] = str(Path(environ.get("DATA_DIR") or BASE_DIR / "var").resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    # It may hold a database password or a SECRET_KEY: readable by this user only.
    path.write_text("# Written by `make run`; read by manage.py (leadhunter/run_env.py).\n")
    path.chmod(0o600)
    for name, value in values.items():
        set_key(path, name, value, quote_mode="always")
    return path


def load(
    environ: os._Environ[str] | dict[str, str] | None = None, path: Path = RUN_ENV_FILE
) -> bool:
    """Fill in `environ` from the file `make run` wrote, unless it does not apply (see the
    module); a variable already set is kept. Returns whether the file was used."""
    environ = os.environ if environ is None else environ
    if not path.is_file():
        return False
    if "DEBUG" in environ and environ["DEBUG"].strip().lower() in FALSE_WORDS:
        return False
    values = {name: value for name, value in dotenv_values(path).items() if value is not None}
    data_dir = environ.get("DATA_DIR", "").strip()
    if data_dir and values.get("DATA_DIR") and Path(data_dir).resolve() != Path(values["DATA_DIR"]):
        return False
    for name, value in values.items():
        environ.setdefault(name, value)
    return True


if __name__ == "__main__":
    # `python -m leadhunter.run_env save`, the Makefile's first step of `make run`.
    if sys.argv[1:] != ["save"]:
        sys.exit("usage: python -m leadhunter.run_env save")
    save()
