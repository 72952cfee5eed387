"""Backups of the whole database, and restoring one.

PostgreSQL: pg_dump's custom format and pg_restore, which must be at least the server's major
version (pg_dump refuses a newer server). SQLite: sqlite3's online backup API, which copies a
consistent snapshot page by page while the web server and the worker keep writing.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Copied this many pages per step, so writers are never held up for long.
SQLITE_PAGES_PER_STEP = 1024


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


def backup_folder() -> Path:
    """Where `manage.py backup` writes unless told otherwise: DATA_DIR/backups."""
    return Path(settings.DATA_DIR) / "backups"


def backup_default_path(*, now: datetime | None = None) -> Path:
    """DATA_DIR/backups/leadhunter-<UTC time>.<dump|sqlite3>."""
    stamp = (now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    suffix = "dump" if connection.vendor == "postgresql" else "sqlite3"
    return backup_folder() / f"leadhunter-{stamp}.{suffix}"


def backup_newest() -> tuple[Path, datetime] | None:
    """The newest complete backup in backup_folder() and when it was written, or None.

    Judged by the file's modification time (a copied-in backup counts from when it was copied);
    half-written `.partial` files are not backups.
    """
    found = [
        (path.stat().st_mtime, path)
        for pattern in ("leadhunter-*.dump", "leadhunter-*.sqlite3")
        for path in backup_folder().glob(pattern)
        if path.is_file()
    ]
    if not found:
        return None
    mtime, path = max(found)
    return path, datetime.fromtimestamp(mtime, tz=UTC)


def backup_create(*, output: Path | None = None) -> Path:
    """Write a consistent backup of the database to `output` (or the default path) and return
    the path. The file appears only once complete: it is written next to it, then renamed."""
    output = Path(output or backup_default_path()).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    try:
        if connection.vendor == "postgresql":
            _pg_dump(partial)
        elif connection.vendor == "sqlite":
            _sqlite_backup(partial)
        else:
            raise BackupError(f"Backups of {connection.vendor} databases are not supported.")
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def backup_restore(*, path: Path) -> None:
    """Replace the database's contents with the backup's. Everything written since is lost."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    with path.open("rb") as backup:
        head = backup.read(len(SQLITE_MAGIC))
    if connection.vendor == "postgresql":
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise BackupError(f"{path} is not a PostgreSQL backup made by `manage.py backup`.")
        _pg_restore(path)
    elif connection.vendor == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite backup made by `manage.py backup`.")
        _sqlite_restore(path)
    else:
        raise BackupError(f"Restoring {connection.vendor} databases is not supported.")


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_backup(target: Path) -> None:
    connection.ensure_connection()
    with sqlite3.connect(target) as copy:
        connection.connection.backup(copy, pages=SQLITE_PAGES_PER_STEP)
    copy.close()


def _sqlite_restore(path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = source.execute("PRAGMA integrity_check").fetchone()[0]
        if problems != "ok":
            raise BackupError(f"{path} is damaged: {problems}")
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
        if "django_migrations" not in tables:
            raise BackupError(f"{path} is not a LeadHunter database.")
        connection.ensure_connection()
        # Page by page into the live database: other connections see the old or the new
        # contents, never a mixture (the copy holds the database's write lock until done).
        source.backup(connection.connection)
    finally:
        source.close()


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_dump(target: Path) -> None:
    _check_pg_tool("pg_dump")
    _run_pg(
        "pg_dump",
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
    )


def _pg_restore(path: Path) -> None:
    _check_pg_tool("pg_restore")
    # Other sessions of this process would hold locks that DROP TABLE waits for.
    connections.close_all()
    _run_pg(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(path),
        ],
    )


def _check_pg_tool(tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)."
        )
    tool_major = _major(
        subprocess.run(  # noqa: S603 - a fixed command line
            [tool, "--version"], capture_output=True, text=True, check=True
        ).stdout
    )
    connection.ensure_connection()
    server_major = connection.connection.info.server_version // 10000
    if tool_major < server_major:
        raise BackupError(
            f"{tool} is version {tool_major} but the server is {server_major}; install "
            f"postgresql-client-{server_major}."
        )


def _major(version_line: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_line)
    if found is None:
        raise BackupError(f"Cannot tell the version from {version_line!r}.")
    return int(found.group(1))


def _run_pg(tool: str, arguments: list[str]) -> None:
    db = connection.settings_dict
    env = {**os.environ}
    # libpq reads the connection from the environment: no password on a command line.
    env.update(
        {
            key: str(value)
            for key, value in {
                "PGHOST": db.get("HOST"),
                "PGPORT": db.get("PORT"),
                "PGUSER": db.get("USER"),
                "PGPASSWORD": db.get("PASSWORD"),
                "PGDATABASE": db["NAME"],
            }.items()
            if value
        }
    )
    done = subprocess.run(  # noqa: S603 - fixed tool, arguments from our own settings
        [tool, *arguments, f"--dbname={db['NAME']}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-2000:]}")
