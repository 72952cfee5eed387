"""The Docker deployment files (docker-compose.yml, Dockerfile), checked without a Docker engine.

The compose file is loaded with PyYAML and compared with what the settings actually read, so a
variable the settings would silently ignore (a typo, a renamed setting) fails here. When Debian's
docker-compose (v1.29) is installed, it also validates the file against the compose schema.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_SOURCES = (ROOT / "leadhunter" / "settings.py", ROOT / "leadhunter" / "env.py")
DOCKER_COMPOSE = "/usr/bin/docker-compose"

APP_SERVICES = ("web", "worker", "beat")
INFRA_SERVICES = ("postgres", "redis")

# env.text("X", env.boolean("X", env.integer("X", env.word_list("X", env.imap_url("X", …,
# os.environ.get("X",
# and a parameter default naming the variable: def email(prefix: str = "EMAIL_URL").
_READ_PATTERNS = (
    re.compile(
        r"""\benv\.(?:text|boolean|integer|word_list|imap_url|capture_address|fernet_key)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    ),
    re.compile(
        r"""\b(?:text|boolean|integer|word_list|imap_url|capture_address|fernet_key)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    ),
    re.compile(r"""\bos\.environ\.get\(\s*["']([A-Z][A-Z0-9_]*)["']"""),
    re.compile(r"""\bos\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""),
    re.compile(r""":\s*str\s*=\s*["']([A-Z][A-Z0-9_]*)["']"""),
)


def variables_read(*sources: str) -> set[str]:
    """The environment variable names that the given Python sources read."""
    return {name for text in sources for rx in _READ_PATTERNS for name in rx.findall(text)}


def settings_variables() -> set[str]:
    return variables_read(*(path.read_text() for path in SETTINGS_SOURCES))


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(name: str) -> dict[str, Any]:
    return load_compose()["services"][name]


def command_text(svc: dict[str, Any]) -> str:
    command = svc.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def healthcheck_text(svc: dict[str, Any]) -> str:
    test = svc["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


# --- the settings scanner itself ---------------------------------------------------------------


def test_scanner_finds_each_way_of_reading_a_variable():
    source = """
        A = env.text("ONE", "x")
        B = env.boolean('TWO', default=False)
        C = env.integer("THREE", default=2)
        D = env.word_list("FOUR")
        E = os.environ.get("FIVE")
        def email(prefix: str = "SIX"): ...
        raw = os.environ["SEVEN"]
        name = "NOT_READ"
    """
    assert variables_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN"}


def test_scanner_finds_the_core_variables_in_the_settings():
    found = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= found
    assert {"DEBUG", "DATA_DIR", "ALLOWED_HOSTS", "EMAIL_URL", "HTTPS", "BEHIND_PROXY"} <= found


# --- docker-compose.yml ------------------------------------------------------------------------


def test_compose_defines_all_services():
    assert set(load_compose()["services"]) >= {*INFRA_SERVICES, *APP_SERVICES}


def test_postgres_uses_the_official_image_with_a_healthcheck():
    postgres = service("postgres")
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in healthcheck_text(postgres)


def test_redis_uses_the_official_image_with_a_healthcheck():
    redis = service("redis")
    assert redis["image"].startswith("redis:7")
    assert "redis-cli" in healthcheck_text(redis)
    assert "ping" in healthcheck_text(redis)


def test_data_services_keep_their_data_in_declared_named_volumes():
    compose = load_compose()
    declared = set(compose.get("volumes") or {})
    for name, target in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        mounts = [str(m).split(":") for m in compose["services"][name].get("volumes", [])]
        sources = [parts[0] for parts in mounts if len(parts) >= 2 and parts[1] == target]
        assert sources, f"{name} has no volume on {target}"
        assert sources[0] in declared, f"{name}'s volume {sources[0]!r} is not declared"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_the_root_dockerfile(name):
    build = service(name)["build"]
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    else:
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(name):
    depends_on = service(name)["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs conditions, not a plain list"
    for dependency in INFRA_SERVICES:
        assert depends_on[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_have_a_healthcheck_and_restart(name):
    svc = service(name)
    assert healthcheck_text(svc).strip()
    assert not svc["healthcheck"].get("disable", False)
    assert svc["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", INFRA_SERVICES)
def test_infra_services_restart(name):
    assert service(name)["restart"] == "unless-stopped"


def test_web_migrates_then_starts_gunicorn():
    web = service("web")
    command = command_text(web)
    assert "manage.py migrate" in command
    assert "gunicorn leadhunter.wsgi" in command
    assert command.index("manage.py migrate") < command.index("gunicorn")
    assert "0.0.0.0:8000" in command
    assert "8000:8000" in [str(port) for port in web["ports"]]
    assert "/healthz" in healthcheck_text(web)


def test_worker_runs_celery_and_can_be_scaled():
    worker = service("worker")
    assert "celery -A leadhunter worker" in command_text(worker)
    assert "celery" in healthcheck_text(worker)
    # docker compose up --scale worker=3 fails on a fixed name or a published host port.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_beat_uses_the_database_scheduler():
    command = command_text(service("beat"))
    assert "celery -A leadhunter beat" in command
    assert "django_celery_beat.schedulers:DatabaseScheduler" in command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_only_sets_variables_the_settings_read(name):
    env = environment(service(name))
    unknown = set(env) - settings_variables()
    assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_points_at_the_compose_services(name):
    env = environment(service(name))
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required"
    assert env["DEBUG"].lower() in {"0", "false", "no", "off"}
    assert env["DATA_DIR"] == "/data"


def test_app_services_share_one_environment():
    envs = [environment(service(name)) for name in APP_SERVICES]
    assert envs[0] == envs[1] == envs[2]


def test_docker_compose_validates_the_file():
    # A missing tool fails the test rather than skipping it silently (docs in STACK.md).
    assert Path(DOCKER_COMPOSE).exists(), "install Debian's docker-compose (apt) to check the file"
    env = {**os.environ, "SECRET_KEY": "compose-config-check"}
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [DOCKER_COMPOSE, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_builds_on_python_311():
    froms = [args for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert froms
    assert froms[-1].startswith("python:3.11")


def test_dockerfile_runs_as_a_non_root_user():
    users = [args for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_the_project_and_collects_static_files():
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install .*\.(\s|$)", runs)
    assert "collectstatic --noinput" in runs


def test_dockerfile_has_a_healthcheck_on_healthz():
    checks = [args for keyword, args in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert checks
    assert "/healthz" in checks[-1]
    assert "urllib" in checks[-1]


def test_dockerfile_serves_gunicorn_on_port_8000():
    instructions = dockerfile_instructions()
    cmd = [args for keyword, args in instructions if keyword == "CMD"][-1]
    assert "gunicorn" in cmd
    assert "leadhunter.wsgi" in cmd
    assert "0.0.0.0:8000" in cmd
    assert ("EXPOSE", "8000") in instructions
    assert any(keyword == "VOLUME" and "/data" in args for keyword, args in instructions)


def test_every_app_of_ours_is_in_the_installed_package():
    """`pip install .` (the Dockerfile) ships only the packages pyproject.toml lists."""
    import tomllib

    from django.conf import settings

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    ours = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()}

    assert ours
    assert {f"{app}*" for app in ours} <= set(include)
