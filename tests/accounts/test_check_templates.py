"""`manage.py check_templates` (run by `make lint`)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


def templates_in(settings, folder) -> None:
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(folder)]}]


def test_the_project_templates_pass(capsys):
    call_command("check_templates")

    assert "templates compile." in capsys.readouterr().out


def test_a_comment_spanning_lines_fails_it(settings, tmp_path):
    """Django prints a {# … #} comment that spans lines as text, on the page."""
    (tmp_path / "page.html").write_text("<p>Hi</p>\n{# a note\n   on two lines #}\n")
    templates_in(settings, tmp_path)

    with pytest.raises(CommandError, match=r"page.html:2: a \{# comment #\} must close"):
        call_command("check_templates")


def test_a_syntax_error_fails_it(settings, tmp_path):
    (tmp_path / "broken.html").write_text("{% if %}")
    templates_in(settings, tmp_path)

    with pytest.raises(CommandError, match=r"broken\.html"):
        call_command("check_templates")
