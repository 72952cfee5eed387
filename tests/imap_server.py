"""A real IMAP server for tests: a throwaway Dovecot on a free loopback port.

Started as root with its own config, run folder, log and users file in a temporary folder
(no system configuration touched); stopped with `dovecot -c CONF stop`. Tests that need it
fail, not skip, when Dovecot is not installed (`apt-get install dovecot-imapd`).
"""

from __future__ import annotations

import imaplib
import itertools
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = nobody
default_internal_user = nobody
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ImapServer:
    """A running Dovecot: its port, its users, and helpers to put messages in their folders.

    Users have a name the test uses ("sam") and a login of their own on the server
    (`login["sam"]`, e.g. "sam-3"): one server serves many tests, each with empty mailboxes.
    """

    def __init__(self, folder: Path, port: int, users: dict[str, str]) -> None:
        self.folder = folder
        self.port = port
        self.users = users
        self.login = {user: user for user in users}
        self.host = "127.0.0.1"

    def with_fresh_users(self, users: dict[str, str], suffix: str) -> ImapServer:
        """The same server seen with new, empty mailboxes for `users`: their logins are
        `<user>-<suffix>`, made when the server started (Dovecot caches its users file)."""
        fresh = ImapServer(self.folder, self.port, users)
        fresh.login = {user: f"{user}-{suffix}" for user in users}
        missing = [login for login in fresh.login.values() if login not in self.users]
        assert not missing, f"start the server with the users {missing}"
        return fresh

    def url(self, user: str, folder: str = "INBOX", password: str | None = None) -> str:
        secret = password or self.users[user]
        return f"imap://{self.login[user]}:{secret}@{self.host}:{self.port}/{folder}"

    @contextmanager
    def session(self, user: str) -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(self.login[user], self.users[user])
        try:
            yield connection
        finally:
            connection.logout()

    def append(
        self, user: str, raw: bytes, *, folder: str = "INBOX", when: datetime | None = None
    ) -> None:
        """APPEND a message to a folder of `user`, unread, dated `when` (now)."""
        moment = imaplib.Time2Internaldate((when or datetime.now(tz=UTC)).timestamp())
        with self.session(user) as connection:
            status, data = connection.append(f'"{folder}"', "", moment, raw)
            assert status == "OK", data

    def append_many(self, user: str, raws: list[bytes], *, folder: str = "INBOX") -> None:
        """APPEND many messages over one connection."""
        moment = imaplib.Time2Internaldate(datetime.now(tz=UTC).timestamp())
        with self.session(user) as connection:
            for raw in raws:
                status, data = connection.append(f'"{folder}"', "", moment, raw)
                assert status == "OK", data

    def seen_flags(self, user: str, folder: str = "INBOX") -> list[bool]:
        """Whether each message of the folder is marked read."""
        with self.session(user) as connection:
            connection.select(f'"{folder}"', readonly=True)
            _status, data = connection.fetch("1:*", "(FLAGS)")
            return [b"\\Seen" in item for item in data if isinstance(item, bytes)]

    def renumber(self, user: str, folder: str = "INBOX") -> None:
        """Give the folder a new UIDVALIDITY (as a server migration would), same messages:
        dovecot keeps UIDs in dovecot-uidlist; removing it makes new ones."""
        maildir = self.folder / "home" / self.login[user] / "Maildir"
        if folder != "INBOX":
            maildir = maildir / f".{folder}"
        for name in (
            "dovecot-uidlist",
            "dovecot.index",
            "dovecot.index.cache",
            "dovecot.index.log",
        ):
            (maildir / name).unlink(missing_ok=True)
        time.sleep(1.1)  # UIDVALIDITY is a timestamp: make sure the next one differs


@contextmanager
def dovecot(users: dict[str, str]) -> Iterator[ImapServer]:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        raise RuntimeError(
            "Dovecot is not installed: apt-get install -y dovecot-imapd (these tests need a "
            "real IMAP server)."
        )
    folder = Path(tempfile.mkdtemp(prefix="lh-dovecot-"))
    port = _free_port()
    (folder / "run").mkdir()
    (folder / "home").mkdir()
    (folder / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    config = folder / "dovecot.conf"
    config.write_text(CONFIG.format(dir=folder, port=port))
    shutil.chown(folder / "home", "nobody", "nogroup")
    folder.chmod(0o755)
    # No pipes: the daemon keeps its inherited stdout open, and run() would wait for it forever.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([binary, "-c", str(config)], check=True, **quiet)  # noqa: S603
    server = ImapServer(folder, port, users)
    try:
        _wait_until_listening(port, folder)
        yield server
    finally:
        subprocess.run([binary, "-c", str(config), "stop"], check=False, **quiet)  # noqa: S603
        time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_listening(port: int, folder: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    log = folder / "dovecot.log"
    raise RuntimeError(f"Dovecot did not start: {log.read_text() if log.exists() else ''}")


# --- Fixtures (conftest.py files import them: tests/emails, tests/e2e) ---------------------

IMAP_USERS = {"capture": "capture-pass", "sam": "sam-mail-pass"}
# Logins for this many tests per run (each test takes a fresh pair).
LOGINS = 1000
_numbers = itertools.count()


@pytest.fixture(scope="session")
def dovecot_server() -> ImapServer:
    """One Dovecot for the whole run (starting one takes seconds), with a pool of logins."""
    logins = {f"{user}-{n}": pw for n in range(LOGINS) for user, pw in IMAP_USERS.items()}
    with dovecot(logins) as server:
        yield server


@pytest.fixture
def imap_server(dovecot_server) -> ImapServer:
    """The server with empty mailboxes of this test's own for `capture` and `sam`."""
    return dovecot_server.with_fresh_users(IMAP_USERS, str(next(_numbers)))


@pytest.fixture
def capture_mailbox_settings(settings, imap_server, fresh_cache):
    """The install's capture mailbox is the Dovecot user `capture`, address crm@example.com."""
    settings.CAPTURE_IMAP_URL = imap_server.url("capture")
    settings.CAPTURE_ADDRESS = "crm@example.com"
    return imap_server
