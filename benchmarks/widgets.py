"""Median time of one explorer update (control change -> recompute -> PNG ready), per control.

    python benchmarks/widgets.py

Target: at most 50 ms median per control change, figure rendering included.
Each control is moved through values across its range; times include the
observer callback, the computation, the redraw and the PNG encoding.
"""
import platform
import statistics
import time

import ipywidgets as W
import numpy as np

from gdlab import widgets


def values_across(control, n=15):
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectionSlider)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return (options * n)[: max(n, len(options))]
    if isinstance(control, W.FloatLogSlider):
        return list(control.base ** np.linspace(control.min, control.max, n))
    if isinstance(control, W.Checkbox):
        return [i % 2 == 0 for i in range(n)]
    low, high = control.min, control.max
    grid = np.linspace(low, high, n)
    return [int(round(v)) for v in grid] if isinstance(control, W.IntSlider) else list(grid)


def main():
    print(f"# widget update time, {platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"{'explorer':<22} {'control':<16} {'median ms':>10} {'max ms':>8}")
    worst = 0.0
    for name in widgets.__all__:
        box = getattr(widgets, name)()
        for label, control in box.controls.items():
            original = control.value
            times = []
            for value in values_across(control):
                if value == control.value:
                    continue
                start = time.perf_counter()
                control.value = value
                times.append(time.perf_counter() - start)
            control.value = original
            median = statistics.median(times) * 1e3
            worst = max(worst, median)
            print(f"{name:<22} {label:<16} {median:>10.1f} {max(times) * 1e3:>8.1f}")
    print(f"worst median: {worst:.1f} ms (target <= 50 ms): {'OK' if worst <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
