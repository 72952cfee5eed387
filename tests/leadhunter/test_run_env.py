"""leadhunter/run_env.py: the settings `make run` saves for the commands run after it, and
never for production. The whole path (make run, then manage.py from a shell) is walked in
tests/test_readme.py."""

from __future__ import annotations

import re
import stat

from leadhunter import run_env
from tests.test_readme import README


def test_make_run_saves_its_settings_and_manage_py_fills_in_only_what_is_unset(tmp_path):
    saved = tmp_path / "make-run.env"
    run_env.save(
        {
            "DEBUG": "true",
            "PORT": "8123",
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": "postgres://sales:p'a ss#w@db:5432/leadhunter",
            "HOME": "/root",
        },
        path=saved,
    )
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # it may hold a password
    assert "HOME" not in saved.read_text()

    environ = {"LOG_LEVEL": "DEBUG", "DATABASE_URL": "sqlite:////tmp/mine.sqlite3"}
    assert run_env.load(environ, path=saved)
    assert environ == {
        "LOG_LEVEL": "DEBUG",
        "DATABASE_URL": "sqlite:////tmp/mine.sqlite3",  # set in the shell: it wins
        "DEBUG": "true",
        "DATA_DIR": str(tmp_path / "data"),
        "SITE_URL": "http://127.0.0.1:8123",  # the port make run served
    }


def test_a_password_with_quotes_and_hashes_survives_the_file(tmp_path):
    saved = tmp_path / "make-run.env"
    url = "postgres://sales:p'a ss#w\"@db:5432/leadhunter"
    run_env.save({"DATABASE_URL": url}, path=saved)
    environ: dict[str, str] = {}
    run_env.load(environ, path=saved)
    assert environ["DATABASE_URL"] == url


def test_a_public_site_url_and_the_default_port(tmp_path):
    saved = tmp_path / "make-run.env"
    run_env.save({"SITE_URL": "https://crm.example.com"}, path=saved)
    environ: dict[str, str] = {}
    run_env.load(environ, path=saved)
    assert environ["SITE_URL"] == "https://crm.example.com"
    assert run_env.site_url({}) == "http://127.0.0.1:8000"


def test_production_and_other_data_folders_ignore_the_file(tmp_path):
    saved = tmp_path / "make-run.env"
    run_env.save({"DEBUG": "true", "DATA_DIR": str(tmp_path / "data")}, path=saved)

    for debug_off in ["false", "0", "off", ""]:
        production = {"DEBUG": debug_off}
        assert not run_env.load(production, path=saved)
        assert production == {"DEBUG": debug_off}

    elsewhere = {"DATA_DIR": str(tmp_path / "another")}
    assert not run_env.load(elsewhere, path=saved)
    assert elsewhere == {"DATA_DIR": str(tmp_path / "another")}

    same_folder = {"DATA_DIR": str(tmp_path / "data" / ".." / "data")}
    assert run_env.load(same_folder, path=saved)
    assert same_folder["DEBUG"] == "true"

    assert not run_env.load({}, path=tmp_path / "never-written.env")


def test_every_variable_of_the_readme_configuration_table_is_saved():
    text = README.read_text()
    table = text[text.index("| Variable | Default | Meaning |") :].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE))
    assert documented == set(run_env.SETTINGS_VARIABLES)
