"""How fast the explorers answer, against issue 15's targets.

    python benchmarks/widgets.py             # Python time per change, measured inside a Jupyter kernel
    python benchmarks/widgets.py --browser   # and in Chromium (JupyterLab): event -> repainted plot
    python benchmarks/widgets.py --nodelay   # in Chromium twice: JupyterLab as installed, then with TCP_NODELAY
    python benchmarks/widgets.py --breakdown [EXPLORER]   # where a drag's time goes, hop by hop (lr_explorer)

Python: each control is moved through 15 values across its range, and the start point is dropped at 30 random
places of the plot (every path recomputed), inside a kernel, so the times include sending the plot's data to
the browser. Target: at most 5 ms median over all settings of each explorer's controls, at most 16 ms for a drag.
Both the wall clock and the kernel's CPU time are printed (time.process_time): on a shared machine the CPU time is
the steadier figure; the verdict is on the wall clock, what a reader waits.

Browser (needs /usr/bin/chromium and playwright, as tests/test_browser.py): a notebook with the five explorers
runs in JupyterLab; the start point is dragged across each plot and sliders are moved with the keyboard. Times
are taken in the page with performance.now(): from the pointer or key event (for a drag in Chromium, the
pointerrawupdate event that sent the request) to the end of the repaint that shows the kernel's answer. Target:
at most 16 ms median. The browser's own drawing time and the start point's repaint (drawn at once, before the
kernel answers) are printed beside it, with two round trips that no answer from the kernel can beat: a trait
set by the page and answered by the kernel with nothing computed (a drag's path), and an empty execute request.
Jupyter Server sends the kernel's messages to the browser with Nagle's algorithm on, so an answer that follows
the kernel's "busy" message waits for the browser's delayed ACK (40 ms on Linux); --nodelay measures a second
time with a server config that turns it off (binder/jupyter_server_config.py, which `make lab` and Binder use).

--breakdown: where one explorer's drag spends its time, hop by hop (JupyterLab with TCP_NODELAY): the page,
Jupyter Server and the kernel each note when a drag request and the plot data pass them, and each hop's median is
printed. The server and the kernel share one clock; the page has its own, so the websocket's two legs (page to
server, server to page) are given together.

The machine is named with its load: on a shared, busy machine the times are upper bounds; re-run on a quiet one.
"""
import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IN_KERNEL = r'''
import json, statistics, time
import ipywidgets as W
import numpy as np
from gdlab import widgets
from gdlab.widgets._explorer import values_of

def values_across(control, n=15):
    options = values_of(control) if hasattr(control, "options") else None
    if isinstance(control, W.SelectionSlider):  # n of its values, spread evenly (log sliders: on a log scale)
        return [options[round(i)] for i in np.linspace(0, len(options) - 1, n)]
    if isinstance(control, W.Dropdown):
        return (options * n)[: max(n, len(options))]
    values = np.linspace(control.min, control.max, n)
    return [int(round(v)) for v in values] if isinstance(control, W.IntSlider) else list(values)

maths = [0.0]  # CPU seconds spent in gdlab's runners (the course maths), to tell them from the explorer's own work

def timed(runner):
    def run(*args, **kwargs):
        start = time.process_time()
        try:
            return runner(*args, **kwargs)
        finally:
            maths[0] += time.process_time() - start
    return run

for module in (widgets.lr, widgets.momentum, widgets.race, widgets.minibatch, widgets.schedule):
    for runner in ("gradient_descent", "minimize", "minibatch_descent"):
        if hasattr(module, runner):
            setattr(module, runner, timed(getattr(module, runner)))

def measure(change):
    """Wall time, CPU time of the kernel process, and CPU time in the runners, of one change."""
    maths[0], start, cpu = 0.0, time.perf_counter(), time.process_time()
    change()
    return time.perf_counter() - start, time.process_time() - cpu, maths[0]

results, rng = {}, np.random.default_rng(0)
for name in widgets.__all__:
    box = getattr(widgets, name)()
    times = {}
    for label, control in box.controls.items():
        original, times[label] = control.value, []
        for value in values_across(control):
            if value != control.value:
                times[label].append(measure(lambda: setattr(control, "value", value)))
        control.value = original
    panels = box.plot.figure["panels"]
    if any(panel["drag"] for panel in panels):
        frame = box.plot.data["panels"][[bool(p["drag"]) for p in panels].index(True)]
        times["drag"] = []
        for request in range(1, 31):
            point = [float(rng.uniform(*frame["xlim"])), float(rng.uniform(*frame["ylim"]))]
            # what the comm does with the browser's message:
            times["drag"].append(measure(lambda: box.plot.set_state({"drag": point + [request]})))
    results[name] = times
print("RESULTS" + json.dumps(results))
'''


def machine():
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in (info.read_text().splitlines() if info.exists() else [])
             if line.startswith("model name")]
    cpu = names[0] if names else cpu
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{cpu}, {os.cpu_count()} CPUs, load average {load}, Python {platform.python_version()}"


def in_kernel(code, timeout=900):
    """Run `code` in a fresh kernel of this Python; return its printed output."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    output = []
    try:
        reply = client.execute_interactive(code, timeout=timeout, output_hook=output.append)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(m["content"].get("text", "") for m in output if m["msg_type"] == "stream")
    if reply["content"]["status"] != "ok":
        raise RuntimeError("\n".join(reply["content"].get("traceback", [])) + text)
    return text


def python_times():
    results = json.loads(in_kernel(IN_KERNEL).split("RESULTS", 1)[1])
    print("Python time per change (ms), in a kernel: wall clock, and CPU time of the kernel process (on a busy")
    print("machine the wall clock includes waiting for a core; on a quiet one the two agree); 'maths': CPU time in")
    print("gdlab.descent's runners")
    print(f"{'explorer':<20} {'control':<12} {'wall':>7} {'max':>7} {'CPU':>7} {'maths':>7}")
    verdicts = []
    for name, controls in results.items():
        changes = []
        for label, times in controls.items():
            wall, cpu, maths = ([t[k] * 1e3 for t in times] for k in (0, 1, 2))
            print(f"{name:<20} {label:<12} {statistics.median(wall):>7.2f} {max(wall):>7.1f} "
                  f"{statistics.median(cpu):>7.2f} {statistics.median(maths):>7.2f}")
            if label != "drag":
                changes += [t[:2] for t in times]
        verdicts.append(verdict(name, "all control changes:", changes, 5))
        if "drag" in controls:
            verdicts.append(verdict(name, "drag of the start:  ", [t[:2] for t in controls["drag"]], 16))
    print("\n".join(verdicts))


def verdict(name, what, times, target):
    wall, cpu = (statistics.median(t[k] for t in times) * 1e3 for k in (0, 1))
    return (f"{name:<20} {what} median {wall:6.2f} ms wall, {cpu:6.2f} ms CPU (target <= {target}): "
            f"{'OK' if wall <= target else 'MISSED' if cpu > target else 'OK in CPU time, MISSED in wall time'}")


def browser_test():
    """tests/test_browser.py, for its JupyterLab and Chromium helpers."""
    spec = importlib.util.spec_from_file_location("test_browser", ROOT / "tests" / "test_browser.py")
    lab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab)
    return lab


def drag_across(lab, page, explorer):
    """Drag the start point to three places of the plot, 30 pointer moves each; returns the repaints recorded."""
    count = len(explorer.evaluate("node => node.timings"))
    for target in ((0.25, 0.25), (0.75, 0.75), (0.25, 0.75)):
        lab.drag_start(page, explorer, explorer.evaluate(
            "(node, [u, v]) => node.dragBox().map(([lo, hi], k) => lo + [u, v][k] * (hi - lo))", list(target)),
            moves=30)
        time.sleep(1.0)
    return explorer.evaluate("node => node.timings")[count:]


def browser_times(nodelay=False):
    lab = browser_test()
    import nbformat
    from playwright.sync_api import sync_playwright

    cells = [nbformat.v4.new_code_cell("from gdlab import widgets")]
    cells += [nbformat.v4.new_code_cell(f"widgets.{name}()") for name in
              ("lr_explorer", "momentum_explorer", "optimizer_race", "minibatch_explorer", "schedule_explorer")]
    cells.append(nbformat.v4.new_code_cell(ECHO))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                              "display_name": "Python 3"}})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        root.mkdir()
        nbformat.write(notebook, root / "explorers.ipynb")
        print(f"\nIn Chromium, JupyterLab {'with TCP_NODELAY on its websockets' if nodelay else 'as installed'}:")
        with lab.jupyterlab(root, Path(tmp) / "jupyterlab.log", nodelay) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(lab.CHROMIUM), headless=True, args=lab.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script("window.gdlabKeydowns = []; document.addEventListener('keydown', "
                                 "(event) => window.gdlabKeydowns.push(event.timeStamp), true);")
            lab.run_all(page, url, "explorers.ipynb")
            print(f"{'explorer':<20} {'what':<34} {'median ms':>9} {'n':>4}")
            outputs = page.locator(".jp-OutputArea-output").filter(has=page.locator(".gdlab-explorer"))
            for i, name in enumerate(("lr_explorer", "momentum_explorer", "optimizer_race", "minibatch_explorer",
                                      "schedule_explorer")):
                output = outputs.nth(i)
                explorer = output.locator(".gdlab-explorer")
                explorer.scroll_into_view_if_needed()
                lab.wait_for_paint(explorer, ("resize", "data"), 0)
                rows, keys = [], []
                for slider in output.get_by_role("slider").all()[:2]:
                    slider.focus()
                    keys += lab.press_and_time(page, explorer, slider, "ArrowRight", 5)
                    keys += lab.press_and_time(page, explorer, slider, "ArrowLeft", 5)
                rows.append(("key on a slider -> repaint", keys))
                if explorer.evaluate("node => node.probe().start"):
                    timings = drag_across(lab, page, explorer)
                    for what, kind, key in (("drag event -> repaint, new paths", "drag", "latency"),
                                            ("  of which sent -> repaint", "drag", "roundTrip"),
                                            ("drag event -> start point repainted", "preview", "latency")):
                        rows.append((what, [t[key] for t in timings if t["kind"] == kind]))
                timings = explorer.evaluate("node => node.timings")
                rows.append(("drawing one repaint", [t["drawMs"] for t in timings if t["kind"] in ("data", "drag")]))
                for what, ms in rows:
                    if ms:
                        print(f"{name:<20} {what:<34} {statistics.median(ms):>9.1f} {len(ms):>4}")
            echo = page.locator(".gdlab-echo")
            echo.scroll_into_view_if_needed()
            for what, times in (("trait set -> kernel -> trait back", echo.evaluate("node => node.roundTrips(30)")),
                                ("empty execute request, kernel", empty_requests(page))):
                print(f"{'(no explorer)':<20} {what:<34} {statistics.median(times):>9.1f} {len(times):>4}")
            browser.close()


# The path of a drag with nothing computed: the page sets a trait, the kernel answers by setting another, the page
# sees it. No explorer can answer faster than this round trip.
ECHO = r'''
import anywidget, traitlets

class Echo(anywidget.AnyWidget):
    _esm = """
    export default { render({ model, el }) {
      el.className = "gdlab-echo";
      el.textContent = "echo";
      el.roundTrips = async (count) => {
        const times = [];
        for (let i = 0; i < count; i++) {
          await new Promise((wait) => setTimeout(wait, 30));  // the kernel idle again, as between drags
          const token = model.get("ping") + 1, started = performance.now();
          await new Promise((answered) => {
            const check = () => model.get("pong") === token && (model.off("change:pong", check), answered());
            model.on("change:pong", check);
            model.set("ping", token);
            model.save_changes();
          });
          times.push(performance.now() - started);
        }
        return times;
      };
    } };
    """
    ping = traitlets.Int(0).tag(sync=True, echo_update=False)
    pong = traitlets.Int(0).tag(sync=True)

    @traitlets.observe("ping")
    def _answer(self, change):
        self.pong = change["new"]

Echo()
'''


def empty_requests(page, count=30):
    """Round trips of an empty execute request from the page through the kernel and back, in ms."""
    return page.evaluate("""async (count) => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel, times = [];
        for (let i = 0; i < count; i++) {
            const started = performance.now();
            await kernel.requestExecute({ code: "", silent: true }).done;
            times.push(performance.now() - started);
        }
        return times;
    }""", count)


# --breakdown. Each process appends "what time_ms" lines to its trace file (named by an environment variable the
# server and its kernel inherit). Jupyter Server: a message from the page, and each kernel message it forwards.
SERVER_TRACE = r"""
import os as _os, time as _time
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection as _Connection
_trace = open(_os.environ["GDLAB_SERVER_TRACE"], "w", buffering=1)
_from_page, _to_page = _Connection.handle_incoming_message, _Connection.handle_outgoing_message

def _traced_from_page(self, message):
    _trace.write(f"from_page {_time.time() * 1e3:.3f}\n")
    return _from_page(self, message)

def _traced_to_page(self, stream, message):
    received = _time.time() * 1e3
    _to_page(self, stream, message)
    if getattr(stream, "channel", stream) == "iopub":
        _trace.write(f"to_page {received:.3f} {_time.time() * 1e3:.3f}\n")

_Connection.handle_incoming_message, _Connection.handle_outgoing_message = _traced_from_page, _traced_to_page
"""

# The kernel: when a drag request arrives, and when the first message it sends after that (the plot data) leaves.
KERNEL_TRACE = r"""
import os, time
import ipywidgets as W
_trace = open(os.environ["GDLAB_KERNEL_TRACE"], "w", buffering=1)
_handle, _send, _sends = W.Widget._handle_msg, W.Widget._send, []

def _traced_send(self, message, buffers=None):
    _sends.append(time.time() * 1e3)
    return _send(self, message, buffers)

def _traced_handle(self, message):
    received = time.time() * 1e3
    _sends.clear()
    _handle(self, message)
    drag = message["content"]["data"].get("state", {}).get("drag")
    if drag and _sends:
        _trace.write(f"drag {drag[2]} {received:.3f} {_sends[0]:.3f}\n")

W.Widget._send, W.Widget._handle_msg = _traced_send, _traced_handle
"""

# The page: when each websocket message arrives (performance.now(), before JupyterLab handles it), and its size.
PAGE_TRACE = """
window.gdlabArrivals = [];
const PageSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new PageSocket(...args);
  socket.addEventListener("message", (event) => window.gdlabArrivals.push(
    [performance.now(), event.data.byteLength ?? event.data.size ?? event.data.length]));
  return socket;
};
window.WebSocket.prototype = PageSocket.prototype;
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
"""


def drag_breakdown(name):
    """Drag the start point of explorer `name` and print the median time of each hop, page -> kernel -> page."""
    lab = browser_test()
    import nbformat
    from playwright.sync_api import sync_playwright

    cells = [nbformat.v4.new_code_cell(KERNEL_TRACE),
             nbformat.v4.new_code_cell(f"from gdlab import widgets\nwidgets.{name}()")]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                              "display_name": "Python 3"}})
    with tempfile.TemporaryDirectory() as tmp:
        root, server_trace, kernel_trace = Path(tmp) / "lab", Path(tmp) / "server.txt", Path(tmp) / "kernel.txt"
        root.mkdir()
        nbformat.write(notebook, root / "breakdown.ipynb")
        os.environ.update(GDLAB_SERVER_TRACE=str(server_trace), GDLAB_KERNEL_TRACE=str(kernel_trace))
        with lab.jupyterlab(root, Path(tmp) / "jupyterlab.log", nodelay=True, extra_config=SERVER_TRACE) as url, \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(lab.CHROMIUM), headless=True, args=lab.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(PAGE_TRACE)
            lab.run_all(page, url, "breakdown.ipynb")
            explorer = page.locator(".gdlab-explorer").first
            explorer.scroll_into_view_if_needed()
            lab.wait_for_paint(explorer, ("resize", "data"), 0)
            drags = [t for t in drag_across(lab, page, explorer) if t["kind"] == "drag"]
            arrivals = page.evaluate("window.gdlabArrivals")
            browser.close()
        server = [line.split() for line in server_trace.read_text().splitlines()]
        kernel = {int(seq): (float(received), float(sent)) for _, seq, received, sent in
                  (line.split() for line in kernel_trace.read_text().splitlines())}
    from_page = [float(t) for what, t, *_ in server if what == "from_page"]
    to_page = [(float(received), float(sent)) for what, received, sent in (r for r in server if r[0] == "to_page")]
    # The page's clock and the server's are not the same clock (the kernel's and the server's are): the websocket's
    # two legs are measured together, as the page's wait minus the time the server and the kernel account for.
    hops = {key: [] for key in HOPS}
    for drag in drags:
        if drag["seq"] not in kernel:
            continue
        event, request = drag["paintedAt"] - drag["latency"], drag["paintedAt"] - drag["roundTrip"]
        received, data_sent = kernel[drag["seq"]]
        at_server = max((t for t in from_page if t <= received), default=None)  # the page's last message before it
        # the plot data: on the server, the first kernel message after the kernel sent it (its "busy" goes before);
        # on the page, the first message after the request of 2 kB or more (status and slider messages are smaller)
        server_in, server_out = next(((r, s) for r, s in to_page if r >= data_sent), (None, None))
        data_arrival = next((t for t, size in arrivals if t >= request and size >= 2000), None)
        if None in (at_server, server_in, data_arrival):
            continue
        times = (request - event, (data_arrival - request) - (server_out - at_server), received - at_server,
                 data_sent - received, server_in - data_sent, server_out - server_in,
                 drag["paintedAt"] - data_arrival, drag["latency"])
        for key, ms in zip(HOPS, times):
            hops[key].append(ms)
    print(f"\nWhere a drag of {name} spends its time, JupyterLab with TCP_NODELAY (median ms of {len(hops[HOPS[0]])} "
          "answered drag requests; the hops' medians need not add up to the total's):")
    for key, times in hops.items():
        print(f"  {key:<58} {statistics.median(times):6.1f}")


HOPS = ("pointer event -> request sent (page)", "websocket, page -> server and server -> page (both legs)",
        "Jupyter Server -> kernel (ZeroMQ)", "kernel: request received -> plot data sent",
        "kernel -> Jupyter Server (ZeroMQ)", "Jupyter Server: forwarding the plot data",
        "page: plot data arrived -> plot repainted", "total: pointer event -> plot repainted")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium (JupyterLab)")
    parser.add_argument("--nodelay", action="store_true",
                        help="measure in Chromium a second time, the server sending small messages at once")
    parser.add_argument("--breakdown", nargs="?", const="lr_explorer", metavar="EXPLORER",
                        help="only: where a drag of one explorer (default lr_explorer) spends its time, hop by hop")
    arguments = parser.parse_args()
    print(f"# explorer speed, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}")
    if arguments.breakdown:
        drag_breakdown(arguments.breakdown)
        return
    python_times()
    if arguments.browser or arguments.nodelay:
        browser_times()
    if arguments.nodelay:
        browser_times(nodelay=True)


if __name__ == "__main__":
    sys.exit(main())
