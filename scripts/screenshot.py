"""Take docs/screenshot.png: the services page of the demo organisation, for the README.

Starts `watchbill serve` on a free loopback port from a throwaway data directory,
applies demo/, creates an owner, signs in with Playwright driving the system chromium
(never a downloaded browser) and saves a 1280x800 screenshot.

    .venv/bin/python scripts/screenshot.py [--output docs/screenshot.png] [--page /services]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.server import prepare_demo, running_server  # noqa: E402

OWNER = "ada"
PASSWORD = "screenshot passphrase"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def take(output: Path, page_path: str, width: int, height: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    with (
        tempfile.TemporaryDirectory(prefix="watchbill-screenshot-") as tmp,
        running_server(Path(tmp) / "data", prepare=prepare_demo(OWNER, PASSWORD)) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, base_url=server.base_url
            )
            page = context.new_page()
            page.goto(page_path)  # signed out: sent to the login form, then back here
            page.get_by_label("Name or email").fill(OWNER)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"**{page_path}")
            expect(page.locator("main h1")).to_be_visible()
            page.wait_for_load_state("networkidle")
            output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(output))
        finally:
            browser.close()
    print(f"saved {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--page", default="/services", help="path of the page to capture")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    take(args.output.resolve(), args.page, args.width, args.height)


if __name__ == "__main__":
    main()
