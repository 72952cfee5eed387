"""The Pipeline board in a 1280 px window: every stage in view, no sideways scrolling."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Stage
from tests.factories import LeadFactory, ManagerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
# Each card's content must stay inside its card (the "Move" button above all).
OVERFLOWING_CARDS = """
() => [...document.querySelectorAll(".board-card")]
  .filter((card) => card.scrollWidth > card.clientWidth + 1)
  .map((card) => card.dataset.lead)
"""


@pytest.fixture
def full_board(salesperson):
    """A card in every stage, with long names, big values and a lead going cold."""
    long_ago = timezone.now() - timedelta(days=60)
    for stage in Stage:
        LeadFactory(
            owner=salesperson,
            stage=stage,
            first_name="Maximilian-Alexander",
            last_name="Kowalski-Featherstonehaugh",
            company__name="Ironbridge Manufacturing International",
            expected_value=Decimal("1250000"),
            stage_changed_at=long_ago,
        )
    return salesperson


def test_the_whole_board_fits_a_laptop_window(
    logged_in_page, live_server, full_board, console_errors
):
    page = logged_in_page(full_board)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/pipeline/")

    columns = page.locator(".board-column")
    expect(columns).to_have_count(len(Stage))
    expect(page.locator(".board-card .grade")).to_have_count(len(Stage))
    expect(page.get_by_text("Going cold")).to_have_count(5)  # the open stages
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    board = page.locator(".board")
    assert board.evaluate("(board) => board.scrollWidth <= board.clientWidth")
    for index in range(len(Stage)):
        box = columns.nth(index).bounding_box()
        assert box["x"] >= 0, index
        assert box["x"] + box["width"] <= LAPTOP["width"], index
    assert page.evaluate(OVERFLOWING_CARDS) == []
    assert console_errors == []


def test_a_narrow_window_scrolls_the_board_not_the_page_and_the_keyboard_reaches_every_column(
    logged_in_page, live_server, full_board, console_errors
):
    page = logged_in_page(full_board)
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(f"{live_server.url}/pipeline/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 900
    last_card_link = page.locator(".column-nurture .board-card a").first
    for _ in range(80):
        page.keyboard.press("Tab")
        if last_card_link.evaluate("(link) => link === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the last column")
    box = last_card_link.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 900
    assert page.evaluate("document.documentElement.scrollWidth") <= 900
    assert console_errors == []


def test_a_manager_sees_the_owner_on_each_card_and_the_board_still_fits(
    logged_in_page, live_server, full_board, console_errors
):
    manager = ManagerFactory(username="morgan")
    page = logged_in_page(manager)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/pipeline/")

    expect(page.locator(".board-card")).to_have_count(len(Stage))
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert page.evaluate(OVERFLOWING_CARDS) == []
    assert console_errors == []
