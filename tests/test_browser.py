"""A learner's view: JupyterLab in a real Chromium runs a chapter with explorers and a slider moves the plot.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`; `.ci/run` installs it).
"""
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHAPTER = ROOT / "notebooks" / "04_momentum_nesterov.ipynb"
TOKEN = "gdlab-browser-test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: apt-get install -y chromium"),
    pytest.mark.skipif(not CHAPTER.exists(), reason=f"{CHAPTER.name} does not exist yet"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the chapter (running it in the browser must not touch the repository)."""
    root, state = tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("lab-state")
    shutil.copy(CHAPTER, root / CHAPTER.name)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}", "--LabApp.news_url=",
         # A fresh workspace and settings: a workspace saved by an earlier session would reopen the notebook
         # as the test opens it, and the two sessions can leave the page on a kernel that was shut down.
         f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={state / 'settings'}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start within 90 s")
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_explorers_render_and_a_slider_redraws_the_plot(lab, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        image = page.locator("img.widget-image").first
        for attempt in range(2):  # a page can come up talking to a kernel that never got going: reload once
            page.goto(f"{lab}/lab/tree/{CHAPTER.name}?token={TOKEN}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            page.get_by_role("menuitem", name="Run").click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            try:  # off-screen cells are not painted (content-visibility), so wait for the image to exist
                image.wait_for(state="attached", timeout=120_000 * (attempt + 1))
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=240_000)
        image.scroll_into_view_if_needed()  # as a learner scrolls down to the explorer
        image.wait_for(state="visible", timeout=30_000)
        page.screenshot(path=str(tmp_path / "after_run_all.png"))

        assert page.get_by_text("Error displaying widget").count() == 0
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert page.locator("img.widget-image").count() >= 1

        before = image.get_attribute("src")
        explorer = page.locator(".widget-vbox", has=image).first
        handle = explorer.locator(".widget-slider .noUi-handle").first
        handle.focus()
        for _ in range(5):
            handle.press("ArrowRight")
        page.wait_for_function("([img, before]) => img.getAttribute('src') !== before",
                               arg=[image.element_handle(), before], timeout=30_000)
        page.screenshot(path=str(tmp_path / "after_slider.png"))
        assert image.get_attribute("src") != before
        browser.close()
