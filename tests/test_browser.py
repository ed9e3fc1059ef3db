"""A learner's view: JupyterLab in a real Chromium runs chapter 04, the reader drags the start point of the
momentum explorer onto an eigenvector, and the plot redraws the recomputed path; then off it again, as in a browser
without Chromium's pointerrawupdate.

Marked `browser`: run it on its own, not in the xdist pool of `make test` (`pytest -m browser tests/test_browser.py`).
Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`; `.ci/run` installs it) and Python's
playwright (driving that Chromium; never `playwright install`). On a failure the message ends with the tail of
JupyterLab's log; the whole log and screenshots stay in the test's temporary folder, which it names.
"""
import contextlib
import json
import os
import socket
import statistics
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
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed: apt-get install -y chromium"),
]


def without_outputs(notebook, destination):
    """A copy of `notebook` with no outputs and no saved widget state: all the page shows, this run made."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells["metadata"].pop("widgets", None)
    for cell in cells["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    destination.write_text(json.dumps(cells), encoding="utf-8")


# The course's server config (make lab, Binder): Jupyter Server writes to the browser's websocket with Nagle's
# algorithm on, so an explorer's answer waits for the browser's delayed ACK (40 ms on Linux); this turns it off.
NODELAY_CONFIG = (ROOT / "binder" / "jupyter_server_config.py").read_text(encoding="utf-8")


@contextlib.contextmanager
def jupyterlab(root, log, nodelay=False, extra_config=""):
    """JupyterLab serving `root`, its output in `log`; yields its URL. The app is exposed to the page
    (window.jupyterapp), so the test runs cells by command instead of clicking through menus, and a kernel is
    started without asking (the "Select Kernel" dialog would otherwise stop Run All on a busy machine).
    nodelay: the server sends small websocket messages at once (NODELAY_CONFIG); extra_config: more lines of
    server config after it (benchmarks/widgets.py --breakdown adds its timestamps)."""
    state = root.parent / f"{root.name}-state"
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text('{"autoStartDefaultKernel": true}')
    environment = dict(os.environ)
    if nodelay or extra_config:
        (state / "config").mkdir(exist_ok=True)
        (state / "config" / "jupyter_server_config.py").write_text((NODELAY_CONFIG if nodelay else "") + extra_config)
        environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [str(state / "config")] + [p for p in [os.environ.get("JUPYTER_CONFIG_PATH")] if p])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log, "w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={port}", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
             "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={state / 'settings'}"],
            stdout=output, stderr=subprocess.STDOUT, cwd=root, env=environment)
        try:
            url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"JupyterLab did not start (exit code {server.poll()}); see {log}") from None
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_all(page, url, notebook):
    """Open `notebook` and run every cell, by JupyterLab's own commands; returns when the last cell is done."""
    page.goto(f"{url}/lab/tree/{notebook}?token={TOKEN}", timeout=120_000)
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext", timeout=120_000)
    ran = page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.sessionContext.ready;
        await panel.revealed;
        return await window.jupyterapp.commands.execute("notebook:run-all-cells");
    }""")
    assert ran, "Run All stopped at a cell that raised"


def wait_for_paint(explorer, kinds, after, timeout=30):
    """The first repaint of one of `kinds` ("resize": drawn for a new size, the first time too; "data": for new
    data from the kernel; "drag": the kernel's answer to a drag) recorded after index `after` of the timings."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timings = explorer.evaluate("node => node.timings")
        found = [t for t in timings[after:] if t["kind"] in kinds]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {' or '.join(kinds)} repaint within {timeout} s")


def drag_start(page, explorer, target, moves=20):
    """Drag the start point to the data point `target` as a reader does, in `moves` pointer moves."""
    x, y = explorer.evaluate("node => node.probe().start")
    tx, ty = explorer.evaluate("(node, [x, y]) => node.pixel(x, y)", list(target))
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, moves + 1):
        page.mouse.move(x + (tx - x) * k / moves, y + (ty - y) * k / moves)
        time.sleep(0.016)
    page.mouse.up()


def press_and_time(page, explorer, slider, key, presses):
    """Press `key` on a slider `presses` times; each time it moves, the ms from the keydown to the explorer's
    repaint (a press at the end of the slider's range changes nothing and is not counted)."""
    latencies = []
    for _ in range(presses):
        count, before = len(explorer.evaluate("node => node.timings")), slider.get_attribute("aria-valuenow")
        slider.press(key)
        if slider.get_attribute("aria-valuenow") == before:
            continue
        painted = wait_for_paint(explorer, ("data",), count)
        pressed = page.evaluate("window.gdlabKeydowns.at(-1)")
        latencies.append(painted["paintedAt"] - pressed)
    return latencies


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    without_outputs(CHAPTER, root / CHAPTER.name)
    log = root.parent / "jupyterlab.log"
    with jupyterlab(root, log, nodelay=True) as url:  # as `make lab` and Binder serve it
        yield url, log


def test_dragging_the_start_onto_an_eigenvector_redraws_the_recomputed_path(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, log = lab
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script("window.gdlabKeydowns = []; document.addEventListener('keydown', "
                                 "(event) => window.gdlabKeydowns.push(event.timeStamp), true);")
            run_all(page, url, CHAPTER.name)
            assert page.get_by_text("Error displaying widget").count() == 0
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
            explorer = page.locator(".gdlab-explorer").first
            explorer.scroll_into_view_if_needed()  # as a reader scrolls down to it
            wait_for_paint(explorer, ("resize", "data"), 0)
            page.screenshot(path=str(tmp_path / "before_drag.png"))
            before = explorer.evaluate("node => [node.probe(), node.querySelector('canvas').toDataURL()]")

            count = len(explorer.evaluate("node => node.timings"))
            drag_start(page, explorer, (-2.0, 0.02))  # within a few pixels of the x1 axis: it snaps onto it
            deadline = time.monotonic() + 30
            while explorer.evaluate("node => node.probe().lines[0].first")[1] != 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            after = explorer.evaluate("node => [node.probe(), node.querySelector('canvas').toDataURL()]")
            page.screenshot(path=str(tmp_path / "after_drag.png"))
            first = after[0]["lines"][0]["first"]
            assert first[0] == pytest.approx(-2.0, abs=0.05) and first[1] == 0, f"path starts at {first}"
            assert after[0]["lines"] != before[0]["lines"] and after[1] != before[1], "the plot did not change"
            assert "on an eigenvector" in explorer.get_by_role("status").inner_text()
            drags = [t for t in explorer.evaluate("node => node.timings")[count:] if t["kind"] == "drag"]
            assert drags, "no repaint answered a drag"

            # Firefox and Safari have no pointerrawupdate (Chromium's early move event): there pointermove asks
            page.evaluate("window.addEventListener('pointerrawupdate', (event) => event.stopImmediatePropagation(), "
                          "true)")
            drag_start(page, explorer, (-1.5, 1.0))
            deadline = time.monotonic() + 30
            while explorer.evaluate("node => node.probe().lines[0].first")[1] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            first = explorer.evaluate("node => node.probe().lines[0].first")
            assert first == pytest.approx([-1.5, 1.0], abs=0.05), f"without pointerrawupdate the path starts at {first}"
            assert "on an eigenvector" not in explorer.get_by_role("status").inner_text()

            slider = page.get_by_role("slider").first  # the explorer's lr slider: keyboard, as a reader may use it
            slider.focus()
            keys = press_and_time(page, explorer, slider, "ArrowLeft", 5)
            timings = explorer.evaluate("node => node.timings")
            print(f"\nrepaint after a drag event, with the kernel's recomputed path: median "
                  f"{statistics.median(t['latency'] for t in drags):.1f} ms over {len(drags)} answered moves")
            print(f"repaint after a drag event, the start point alone (before the kernel answers): median "
                  f"{statistics.median(t['latency'] for t in timings if t['kind'] == 'preview'):.1f} ms")
            print(f"repaint after a key press on the lr slider: median {statistics.median(keys):.1f} ms "
                  f"({len(keys)} presses)")
            print(f"drawing time of one repaint: median "
                  f"{statistics.median(t['drawMs'] for t in timings if t['kind'] in ('data', 'drag')):.2f} ms")
            browser.close()
    except Exception as error:
        tail = log.read_text(encoding="utf-8")[-3000:] if log.exists() else "(no log)"
        raise AssertionError(f"{error}\n--- screenshots in {tmp_path}; JupyterLab log {log}, its end:\n{tail}") \
            from error
