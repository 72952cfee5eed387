"""README.md's commands, run as a new user would: `make run` in a fresh checkout, then every
command line the README shows, verbatim, from the project folder in another "terminal".

The checkout is a copy of this tree's files (tracked and new ones, as `git ls-files` lists them,
none of `var/`) in a temporary folder, so its database, broker and data live in that folder's
own `var/` and nothing real is touched; its `.venv` links to this one (a new virtualenv would
only repeat pip's work). `make run` runs for real there, on a free port instead of 8000, until
its banner; the commands run while it serves, with the environment a new user's shell has: no
DEBUG, DATA_DIR, DATABASE_URL, ... and no virtualenv on the PATH.

How each command the README shows is checked (the list is read from README.md each run, so a
command added later is checked too):
- a command line with nothing to fill in runs verbatim and must exit 0;
- `createsuperuser` (it asks questions) runs verbatim in a terminal that answers them;
- a usage line with placeholders (`FILE`, `USERNAME`, `[--dry-run]`, `a|b`) names a command
  that exists and only options that command accepts;
- `make TARGET`: `make -n TARGET` (what it would run) must succeed; `make run` itself ran for
  real above, and `make test` / `make bench` are never run here (minutes long);
- `.venv/bin/gunicorn` and `.venv/bin/celery` (servers) must exist and start far enough to say
  their version; `docker compose ...` (no Docker engine here) must name services of
  docker-compose.yml and, inside `web`, a management command that exists;
- `python manage.py` outside a container is refused: the README must say `.venv/bin/python`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import termios
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RULE = "─" * 72

pytestmark = pytest.mark.worker

# The settings a new user's shell does not have (the test run's own would leak in otherwise).
NOT_IN_A_NEW_SHELL = {
    "DEBUG",
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "SITE_URL",
    "PORT",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "LOG_LEVEL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "VIRTUAL_ENV",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
}

COMMAND_START = re.compile(
    r"^(?:[A-Z_]+=\S+\s+)*(?:make\b|\.venv/bin/\S|python3?\s|docker\s+compose\b|bin/\S)"
)
# Commands whose exit status reports what they found, as the README says (doctor: 0 all ok,
# 1 a warning, 2 a problem): any of these, with no traceback; a fresh install has no backup yet.
REPORTING_EXIT_STATUSES = {"doctor": {0, 1, 2}, "status": {0, 1, 2}}
PLACEHOLDER = re.compile(r"\[|\||…|\b[A-Z][A-Z_]{2,}\b(?!=)")


# ---------------------------------------------------------------------------------------------
# What the README shows
# ---------------------------------------------------------------------------------------------


def readme_commands(text: str) -> list[str]:
    """Every command line of README.md: the lines of its shell code blocks, and the inline
    code spans that start like a command (`make …`, `.venv/bin/…`, `python …`, …)."""
    commands: list[str] = []
    prose: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        fence = line.strip().startswith("```")
        if fence and block is None:
            language = line.strip().strip("`").strip()
            block = [] if language in {"sh", "bash", "shell", "console"} else ["<not shell>"]
            continue
        if fence:
            if block and block[0] != "<not shell>":
                commands += _shell_lines(block)
            block = None
            continue
        if block is None:
            prose.append(line)
        else:
            block.append(line)
    for span in re.findall(r"`([^`]+)`", "\n".join(prose)):
        span = " ".join(span.split())
        if COMMAND_START.match(span) and " " in span:  # `make` alone names the tool
            commands.append(span)
    return list(dict.fromkeys(commands))


def _shell_lines(block: list[str]) -> list[str]:
    lines, current = [], ""
    for raw in block:
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(" ".join(current.split()))
        current = ""
    return lines


COMMANDS = readme_commands(README.read_text())


def words(command: str) -> list[str]:
    """The command's words after any leading VAR=value assignments."""
    parts = shlex.split(command)
    while parts and re.fullmatch(r"[A-Z_]+=.*", parts[0]):
        parts.pop(0)
    return parts


def manage_command(parts: list[str]) -> tuple[str, list[str]]:
    """The management command and its arguments in `… manage.py NAME ARGS`."""
    at = parts.index("manage.py")
    return parts[at + 1], parts[at + 2 :]


# ---------------------------------------------------------------------------------------------
# A fresh checkout after `make run`
# ---------------------------------------------------------------------------------------------


@dataclass
class Checkout:
    folder: Path
    port: int
    env: dict[str, str]
    log: Path
    server: subprocess.Popen

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def run(self, command: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - a command line from our own README
            ["/bin/bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> str:
        result = self.run(f".venv/bin/python manage.py shell --verbosity 0 -c {shlex.quote(code)}")
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def new_shell_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_IN_A_NEW_SHELL}
    env = {key: value for key, value in env.items() if not key.startswith("PYTEST_")}
    env["PATH"] = os.pathsep.join(
        folder
        for folder in env.get("PATH", "").split(os.pathsep)
        if not folder.rstrip("/").endswith(".venv/bin")
    )
    # Lighter on a shared machine; the commands under test do not depend on these.
    env.update(WEB_CONCURRENCY="1", CELERY_WORKER_CONCURRENCY="1")
    return env


def copy_tree(destination: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(REPO / ".venv")
    # The shared virtualenv is installed already: `make` must not reinstall it from the copy.
    os.utime(destination / "pyproject.toml", (0, 0))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def banner_shown(checkout: Checkout) -> bool:
    return checkout.output().count(RULE) >= 2


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Checkout:
    folder = tmp_path_factory.mktemp("clone") / "leadhunter"
    copy_tree(folder)
    env = new_shell_environment()
    assert (
        subprocess.run(["make", "-q", ".venv/.installed"], cwd=folder, env=env).returncode == 0  # noqa: S607
    ), "the shared .venv is not installed: run make .venv/.installed-dev"
    port = free_port()
    log = folder.parent / "make-run.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - the README's own first command
            ["make", "run", f"PORT={port}"],  # noqa: S607
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    made = Checkout(folder, port, env, log, server)
    wait_for(lambda: banner_shown(made) or server.poll() is not None, timeout=420, step=1)
    try:
        assert banner_shown(made), made.output()
        yield made
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# `make run`: one banner, a quiet log, the settings kept for the commands after it
# ---------------------------------------------------------------------------------------------


def test_make_run_ends_its_start_up_with_one_banner_with_the_address_and_the_logins(checkout):
    output = checkout.output()
    assert output.count(RULE) == 2, output
    banner = output[output.index(RULE) : output.rindex(RULE)]
    assert f"open http://127.0.0.1:{checkout.port}" in banner
    assert "password leadhunter-demo" in banner
    for username, role in [
        ("sam", "salesperson"),
        ("jordan", "salesperson"),
        ("morgan", "manager"),
    ]:
        assert re.search(rf"^\s+{username}\s+.*{role}", banner, re.MULTILINE), banner
    printed = "Emails (to leads, reminders, digests, password resets) are printed here, not sent"
    assert printed in banner
    # What came before is a few lines, not a screenful per task: the demo data alone queues
    # hundreds of rescores, whose lines used to push the logins out of sight.
    start_up = output[: output.index(RULE)]
    assert " succeeded in " not in output
    assert "] received" not in output
    assert "Applying " not in start_up  # migrations say nothing when they work
    assert len(start_up.splitlines()) < 40, start_up


def test_commands_after_make_run_use_its_settings_and_its_port(checkout):
    settings_seen = checkout.python(
        "from django.conf import settings; "
        "print(settings.DEBUG, settings.SITE_URL, settings.DATA_DIR, sep='|')"
    )
    assert settings_seen == f"True|http://127.0.0.1:{checkout.port}|{checkout.folder / 'var'}"

    # A one-click link of an email made from a shell leads to the server make run started.
    link = checkout.python(
        "from accounts.models import User; from leads.models import FollowUp\n"
        "from reminders.links import FOLLOW_UP_DONE, make_link\n"
        "sam = User.objects.get(username='sam')\n"
        "follow_up = FollowUp.objects.filter(lead__owner=sam).first()\n"
        "print(make_link(sam, FOLLOW_UP_DONE, follow_up.pk))"
    )
    assert link.startswith(f"http://127.0.0.1:{checkout.port}/")
    with urllib.request.urlopen(link, timeout=30) as answer:  # noqa: S310 - our own server
        assert answer.status == 200


def test_production_settings_never_read_what_make_run_saved(checkout):
    assert (checkout.folder / "var" / "make-run.env").is_file()

    production = checkout.run(
        "DEBUG=false ALLOWED_HOSTS=crm.example.com .venv/bin/python manage.py check"
    )
    assert production.returncode == 2
    assert production.stderr.strip() == (
        "LeadHunter configuration error: SECRET_KEY must be set when DEBUG is off"
    )
    other_data = checkout.run(
        f"DATA_DIR={checkout.folder.parent / 'other'} .venv/bin/python manage.py check"
    )
    assert other_data.returncode == 2
    assert "SECRET_KEY must be set when DEBUG is off" in other_data.stderr


def test_a_burst_of_tasks_logs_no_line_per_task_but_a_failing_task_logs_its_error(checkout):
    before = len(checkout.output())
    burst = 60
    checkout.python(
        "from leads.models import Lead\n"
        "from icp.tasks import rescore_lead\n"
        f"ids = list(Lead.objects.order_by('pk').values_list('pk', flat=True)[:{burst}])\n"
        "Lead.objects.filter(pk__in=ids).update(scored_at=None)\n"
        "for lead_id in ids:\n"
        "    rescore_lead.delay(lead_id)\n"
        "rescore_lead.delay('not-a-lead-id')\n"
    )

    def unscored() -> int:
        return int(
            checkout.python(
                "from leads.models import Lead; print(sum(1 for scored_at in Lead.objects"
                f".order_by('pk').values_list('scored_at', flat=True)[:{burst}] if not scored_at))"
            )
        )

    wait_for(
        lambda: not unscored() and "not-a-lead-id" in checkout.output()[before:],
        timeout=180,
        step=1,
    )
    assert unscored() == 0  # the worker ran all of them
    time.sleep(2)  # anything it would log about the last ones
    log = checkout.output()[before:]
    assert re.search(r"ERROR.*icp\.tasks\.rescore_lead\[.*\] raised unexpected: ValueError", log)
    assert "succeeded" not in log
    assert "received" not in log
    # One record, the error (with its traceback): none for the 60 that succeeded.
    records = re.findall(r"^\[\d{4}-\d\d-\d\d [^\]]*\].*$", log, re.MULTILINE)
    about_rescores = [record for record in records if "rescore_lead" in record]
    assert len(about_rescores) == 1, records
    assert "ERROR" in about_rescores[0]
    assert len(records) <= 2, records


# ---------------------------------------------------------------------------------------------
# Every command the README shows
# ---------------------------------------------------------------------------------------------


def test_the_readme_shows_the_commands_a_new_user_needs():
    assert "make run" in COMMANDS
    assert ".venv/bin/python manage.py createsuperuser" in COMMANDS
    assert any(command.startswith("make test") for command in COMMANDS)


def run_in_a_terminal(
    checkout: Checkout, command: str, answers: list[tuple[str, str]]
) -> tuple[int, str]:
    """Run `command` with a terminal as its stdin/stdout, typing each answer after its prompt."""
    leader, follower = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(  # noqa: S603 - a command line from our own README
        ["/bin/bash", "-c", command],
        cwd=checkout.folder,
        env=checkout.env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        preexec_fn=own_terminal,
    )
    os.close(follower)
    output, seen, pending = "", 0, list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 0.5)[0]:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 4096).decode(errors="replace")
        except OSError:  # the command closed its terminal
            break
        output += chunk
        if pending and pending[0][0] in output[seen:]:
            os.write(leader, f"{pending.pop(0)[1]}\n".encode())
            seen = len(output)
    os.close(leader)
    return process.wait(timeout=30), output


def check_make(checkout: Checkout, command: str) -> None:
    dry = re.sub(r"\bmake\b", "make -n", command, count=1)
    result = checkout.run(dry)
    assert result.returncode == 0, f"{dry}\n{result.stdout}{result.stderr}"
    if words(command)[1:2] == ["run"]:
        assert "bin/serve" in result.stdout


def check_compose(checkout: Checkout, command: str) -> None:
    parts = words(command)
    services = yaml.safe_load((checkout.folder / "docker-compose.yml").read_text())["services"]
    named = [parts[parts.index("exec") + 1]] if "exec" in parts else []
    named += [part.split("=")[0] for part in parts if re.fullmatch(r"\w+=\d+", part)]
    for service in named:
        assert service in services, f"{command}: no service {service} in docker-compose.yml"
    if "manage.py" in parts:
        check_synopsis(checkout, command)


def check_synopsis(checkout: Checkout, command: str) -> None:
    name, arguments = manage_command(shlex.split(command.replace("[", " ").replace("]", " ")))
    help_text = checkout.run(f".venv/bin/python manage.py help {shlex.quote(name)}")
    assert help_text.returncode == 0, f"{command}: no command {name}\n{help_text.stderr}"
    for option in re.findall(r"(?<![\w-])--[a-z][\w-]*", " ".join(arguments)):
        assert re.search(rf"(?<![\w-]){option}\b", help_text.stdout), (
            f"{command}: `{name}` has no option {option}"
        )


@pytest.mark.parametrize("command", COMMANDS, ids=[command[:60] for command in COMMANDS])
def test_each_readme_command_works_as_printed(checkout, command):
    parts = words(command)
    program = parts[0]
    if program == "docker":
        check_compose(checkout, command)
    elif program in {"python", "python3"} and "manage.py" in parts:
        pytest.fail(f"{command}: from a shell this needs .venv/bin/python manage.py")
    elif program == "make":
        check_make(checkout, command)
    elif program in {".venv/bin/gunicorn", ".venv/bin/celery"}:
        version = checkout.run(f"{program} --version")
        assert version.returncode == 0, version.stderr
    elif "manage.py" in parts and PLACEHOLDER.search(" ".join(parts[1:])):
        check_synopsis(checkout, command)
    elif "manage.py" in parts and manage_command(parts)[0] == "createsuperuser":
        password = "a-long-Sales-password-2026"
        status, output = run_in_a_terminal(
            checkout,
            command,
            [
                ("Username", "alex"),
                ("Email address", "alex@example.com"),
                ("Password:", password),
                ("Password (again)", password),
            ],
        )
        assert status == 0, output
        assert "Superuser created successfully." in output
    else:
        result = checkout.run(command)
        name = manage_command(parts)[0] if "manage.py" in parts else ""
        allowed = REPORTING_EXIT_STATUSES.get(name, {0})
        assert result.returncode in allowed, f"{command}\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
