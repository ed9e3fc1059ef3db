"""A learner's view: JupyterLab in a real Chromium runs a chapter with explorers and a slider moves the plot.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`; `.ci/run` installs it).
"""
import json
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
    # Start the notebook's kernel without asking: on a busy machine JupyterLab may otherwise show its
    # "Select Kernel" dialog, and Run All stops behind it.
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"autoStartDefaultKernel": true}')
    notebook = json.loads(CHAPTER.read_text(encoding="utf-8"))  # without outputs: all the page shows, this run made
    notebook["metadata"].pop("widgets", None)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (root / CHAPTER.name).write_text(json.dumps(notebook), encoding="utf-8")
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
        # If the dialog comes up anyway, answer it as a learner would.
        page.add_locator_handler(page.locator(".jp-Dialog").get_by_role("button", name="Select"),
                                 lambda button: button.click())
        image = page.locator("img.widget-image").first
        for attempt in range(2):  # if Run All does not start, reload once
            page.goto(f"{lab}/lab/tree/{CHAPTER.name}?token={TOKEN}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            page.get_by_role("menuitem", name="Run").click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            try:  # JupyterLab can come up talking to a kernel it has just replaced: then nothing runs
                page.get_by_text("[1]:", exact=True).first.wait_for(timeout=30_000)
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
        image.wait_for(state="attached", timeout=240_000)  # off-screen cells are not painted (content-visibility)
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
