"""A PNG of an explorer's View, drawn with matplotlib from the same data explorer.js draws in the browser.

Saved notebooks carry it beside the widget, so GitHub and the course site (no kernel there) show the explorer
as it first appeared. Made once per display, not on every change.
"""
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from PIL import Image

from gdlab.widgets._explorer import INK, TONE_COLOURS

DPI = 100
PANEL_HEIGHT = 3.8  # inches per row of panels


def png(view):
    """The View as a PNG (palette of 96 colours: a quarter of the size, the same to the eye)."""
    notes, status_lines = len(view.notes), view.status.count("\n") + 1
    head = 0.2 + 0.2 * status_lines
    height = head + PANEL_HEIGHT + 0.24 * notes
    figure = Figure(figsize=(10, height), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.07, right=0.98, top=1 - (head + 0.3) / height, bottom=(0.24 * notes + 0.55) / height,
                           wspace=0.25)
    axes = figure.subplots(1, len(view.panels), squeeze=False)[0]
    for ax, panel, frame in zip(axes, view.panels, view.frames):
        _panel(ax, panel, frame)
    figure.text(0.01, 1 - 0.08 / height, view.status, va="top", fontsize=10, fontweight="bold",
                color=TONE_COLOURS[view.tone])
    for i, (text, colour) in enumerate(view.notes):
        figure.text(0.01, (0.24 * (notes - i) - 0.08) / height, "\u2014 " + text, va="top", fontsize=9,
                    color=colour)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").quantize(96).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _panel(ax, panel, frame):
    if panel.landscape is not None:
        for shade, lines in panel.landscape.levels:
            grey = (120 + 110 * shade) / 255
            ax.add_collection(LineCollection(lines, colors=[(grey, grey, grey)], linewidths=0.8))
    xs, ys, label = panel.guides
    for x in xs:
        ax.axvline(x, color="#444444", linewidth=0.8, dashes=(5, 4), label=label)
        label = None
    for y in ys:
        ax.axhline(y, color="#444444", linewidth=0.8, dashes=(5, 4), label=label)
        label = None
    for line in frame.lines:
        style = {"dashes": line.dash} if line.dash else {}
        ax.plot(line.x, line.y, color=line.colour, linewidth=line.width, marker="o" if line.dots else None,
                markersize=3, label=line.label if line.legend else None, **style)
    if panel.landscape is not None and len(panel.landscape.minima):
        ax.plot(*panel.landscape.minima.T, "*", color="#F0E442", markeredgecolor=INK, markersize=13,
                linestyle="none", label="minimum")
    if panel.drag and frame.start is not None:
        ax.plot(*frame.start, "o", color="white", markeredgecolor=INK, markersize=9, label="start (drag it)")
    if panel.xlog:
        ax.set_xscale("log")
    if panel.ylog:
        ax.set_yscale("log")
    ax.set_xlim(frame.xlim)
    ax.set_ylim(frame.ylim)
    ax.set_title(panel.title, fontsize=10, fontweight="bold")
    ax.set_xlabel(panel.xlabel, fontsize=9)
    ax.set_ylabel(panel.ylabel, fontsize=9)
    ax.tick_params(labelsize=9)
    ax.grid(True, color="#e8e8e8")
    ax.set_axisbelow(True)
    if panel.legend and ax.get_legend_handles_labels()[1]:
        ax.legend(loc=panel.legend, fontsize=9, framealpha=0.88)
