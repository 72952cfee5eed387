"""leadhunter.log_filters: a refused request is one log line, an error keeps its traceback."""

from __future__ import annotations

import logging
import sys

import pytest

from leadhunter.log_filters import WithoutTracebacksOfRefusals


@pytest.mark.django_db
def test_a_salesperson_on_a_managers_page_is_one_warning_without_a_traceback(sam_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = sam_client.get("/team/")

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /team/"
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "Traceback" not in caplog.text


def test_an_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    error = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), exc_info)
    refusal = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)

    assert WithoutTracebacksOfRefusals().filter(error) is True
    assert WithoutTracebacksOfRefusals().filter(refusal) is True

    assert error.exc_info == exc_info
    assert refusal.exc_info is None
