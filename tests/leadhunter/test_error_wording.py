"""No message the user can see tells them to reload the page or shows an HTTP status code:
errors say what happened next to where it happened (issue 13)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOWN_TO_USERS = sorted(
    [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static", "js").glob("*.js")]
)
BANNED = [
    re.compile(r"reload the page", re.IGNORECASE),
    re.compile(r"refresh the page", re.IGNORECASE),
    # A status code glued into a message: "(" + xhr.status + ")", "Error 500", "HTTP 422".
    re.compile(r"xhr\.status\s*\+|\+\s*xhr\.status"),
    re.compile(r"\b(?:error|http|status)\s*\(?\s*[45]\d\d\b", re.IGNORECASE),
    re.compile(r"\(\s*[45]\d\d\s*\)"),
]


def test_the_files_checked_are_the_ones_users_see():
    names = {path.name for path in SHOWN_TO_USERS}
    assert {"_base.html", "lead_detail.html", "app.js", "pipeline.js"} <= names


@pytest.mark.parametrize("path", SHOWN_TO_USERS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_reload_the_page_or_status_code_wording(path):
    text = path.read_text()
    found = [match.group(0) for pattern in BANNED for match in pattern.finditer(text)]
    assert found == [], f"{path.relative_to(ROOT)} tells users {found!r}"


def test_the_check_catches_the_old_wording():
    old = '"That didn\'t work (" + xhr.status + "). Reload the page and try again."'
    assert all(pattern.search(old) for pattern in BANNED[:1] + BANNED[2:3]), (
        "the patterns must catch what main used to say"
    )
    assert BANNED[3].search("Error 500: try later")
    assert BANNED[4].search("That didn't work (502).")


def test_no_window_prompt_for_a_reason():
    scripts = "\n".join(path.read_text() for path in ROOT.joinpath("static", "js").glob("*.js"))
    assert not re.search(r"\bprompt\s*\(", scripts)


def test_htmx_swaps_a_refused_form_and_treats_other_errors_as_failures():
    base = ROOT.joinpath("templates", "_base.html").read_text()
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']*)'", base).group(1))
    rules = config["responseHandling"]

    def rule_for(status: int) -> dict:
        return next(rule for rule in rules if re.search(rule["code"], str(status)))

    assert rule_for(422) == {"code": "422", "swap": True, "error": False}
    assert rule_for(200)["swap"]
    assert rule_for(204)["swap"] is False
    for status in (400, 403, 404, 500, 502):
        assert rule_for(status)["swap"] is False
        assert rule_for(status)["error"] is True
    assert config["timeout"] > 0  # a hung request ends as "not saved", not as a spinner
