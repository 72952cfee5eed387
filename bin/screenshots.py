"""Save a PNG of each main page of a running LeadHunter (with demo data) for the README.

Usage: python bin/screenshots.py http://127.0.0.1:8765 docs/screenshots
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = [
    ("today", "/"),
    ("leads", "/leads/"),
    ("lead-detail", None),
    ("pipeline", "/pipeline/"),
    ("referrals", "/referrals/"),
    ("icp", "/icp/"),
    ("icp-editor", "/icp/1/"),
    ("reports", "/reports/own-your-leads/"),
    ("report-sources", "/reports/sources/"),
    ("settings", "/settings/"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def main(base_url: str, folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=ARGS,
        )
        for width, suffix in ((1366, ""), (390, "-phone")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base_url}/accounts/login/")
            page.get_by_label("Username").fill("sam")
            page.get_by_label("Password").fill("leadhunter-demo")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base_url}/")
            for name, path in PAGES:
                if path is None:
                    page.goto(f"{base_url}/leads/?sort=score")
                    path = page.locator("#lead-table tbody a").first.get_attribute("href")
                page.goto(f"{base_url}{path}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=out / f"{name}{suffix}.png", full_page=width > 400)
                print(f"saved {out / f'{name}{suffix}.png'}")  # noqa: T201 - a command-line tool
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
