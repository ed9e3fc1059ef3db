"""The skeleton every explorer is built on.

An explorer is core ipywidgets controls (sliders and menus: keyboard-accessible, drivable from Python) above a
`Plot`, an anywidget whose JavaScript (explorer.js, shipped beside this file) draws on a canvas. On every
change the explorer's `update()` computes what to show with gdlab's maths and returns a `View`; this module
sends it as data only (arrays as base64 float32 text) and keeps the exact arrays for tests and for the static
image that saved notebooks show where no kernel runs.
"""
import base64
import contextlib
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import anywidget
import ipywidgets as W
import numpy as np
import traitlets
from anywidget._util import get_repr_metadata  # Colab's widget-manager metadata, as anywidget adds it
from IPython.display import display

from gdlab._validate import as_point, as_real, count, one_of, positive
from gdlab.functions import Objective

# Okabe & Ito (2008), "Color Universal Design": told apart with every common colour-vision deficiency.
VERMILLION, BLUE, GREEN, PURPLE = "#D55E00", "#0072B2", "#009E73", "#CC79A7"
GREY = "#7f7f7f"
INK = "#1f1f1f"
TONE_COLOURS = {"good": "#006b4f", "bad": "#a33a00", "neutral": INK}  # dark green and vermillion: text contrast
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def encode(values):
    """Little-endian float32 as base64 text, what explorer.js decodes; non-finite values break a line there."""
    with np.errstate(over="ignore"):  # beyond float32's range is inf: off the plot, like the value itself
        return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


class Plot(anywidget.AnyWidget):
    """The canvas: `figure` (panels, labels, contours) and `data` (ranges, lines, status) in, `drag` out."""

    _esm = Path(__file__).with_name("explorer.js").read_text(encoding="utf-8")
    figure = traitlets.Dict().tag(sync=True)
    data = traitlets.Dict().tag(sync=True)
    # [x, y, request number], set by the browser when the start moves; not echoed back to it (a message saved)
    drag = traitlets.List().tag(sync=True, echo_update=False)


@dataclass(eq=False)
class Landscape:
    """Contour lines of a 2-D objective over a box, and its minima: computed once per objective and box."""

    levels: list  # (shade 0 dark .. 1 light, [polyline (k, 2), ...]) per level
    minima: np.ndarray  # (m, 2)


@functools.lru_cache(maxsize=32)
def landscape(f, box, n=120, count=14):
    """Lines of equal log10(f - min f on the grid), evenly spaced: the view chapter 02 draws with contourf."""
    import contourpy  # matplotlib's contouring library, installed with it

    (x_lo, x_hi), (y_lo, y_hi) = box
    X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    Z = f(np.stack([X, Y]))
    height = np.log10(Z - Z.min() + 1e-3 * (Z.max() - Z.min()))
    generator = contourpy.contour_generator(X, Y, height)
    values = np.linspace(height.min(), height.max(), count + 2)[1:-1]
    levels = [(i / (count - 1), generator.lines(value)) for i, value in enumerate(values)]
    inside = [m[:2] for m in f.minima if x_lo <= m[0] <= x_hi and y_lo <= m[1] <= y_hi]
    return Landscape(levels, np.array(inside).reshape(-1, 2))


@dataclass(frozen=True)
class Panel:
    """What a panel shows that changes rarely. drag: "xy" (or "x" for a 1-D start) if the start point lives here;
    guides: lines x = c and y = c drawn dashed that the dragged start snaps onto, with their legend label."""

    title: str
    xlabel: str
    ylabel: str
    xlog: bool = False
    ylog: bool = False
    legend: str = "upper right"
    landscape: Landscape = None
    drag: str = None
    guides: tuple = ((), (), "")

    def wire(self):
        message = {"title": self.title, "xlabel": self.xlabel, "ylabel": self.ylabel, "xlog": self.xlog,
                   "ylog": self.ylog, "legend": self.legend, "drag": self.drag}
        if self.landscape is not None:
            message["contours"] = [{"shade": shade, "xy": encode(_broken_line(lines))}
                                   for shade, lines in self.landscape.levels if lines]
            message["minima"] = encode(self.landscape.minima.ravel())
        xs, ys, label = self.guides
        message["guides"] = {"x": list(xs), "y": list(ys), "label": label}
        return message


def _broken_line(polylines):
    """Polylines as one flat [x0, y0, x1, y1, ...] with a NaN pair between them."""
    gap = np.full((1, 2), np.nan)
    return np.concatenate([part for line in polylines for part in (line, gap)]).ravel()


@dataclass
class Line:
    """A line as drawn: exact x and y (non-finite points break it); time per point for playback is `dt` per
    point from 0, or x itself when `time_is_x` (loss curves against steps or epochs)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    colour: str
    width: float = 1.5
    dash: tuple = ()
    dots: bool = False
    legend: bool = True
    dt: float = 1.0
    time_is_x: bool = False

    def wire(self):
        return {"label": self.label, "x": encode(self.x), "y": encode(self.y), "colour": self.colour,
                "width": self.width, "dash": list(self.dash), "dots": self.dots, "legend": self.legend,
                "dt": self.dt, "time_is_x": self.time_is_x}


def path_line(label, points, colour, **style):
    """A path through the plane: `points` is (k, 2), one row per point visited."""
    points = np.asarray(points, dtype=float)
    return Line(label, points[:, 0], points[:, 1], colour, **style)


def curve(label, values, colour, floor=0.0, x=None, **style):
    """values - floor per step (or at `x`), as drawn on a log axis: a point <= 0 is left out (a gap)."""
    gap = np.asarray(values, dtype=float) - floor
    x = np.arange(len(gap), dtype=float) if x is None else np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        gap = np.where(gap > 0, gap, np.nan)
    return Line(label, x, gap, colour, time_is_x=True, **style)


@dataclass
class Frame:
    """What one panel shows now: axis ranges, lines, and the start point if it lives here."""

    xlim: tuple
    ylim: tuple
    lines: list
    start: tuple = None

    def wire(self):
        return {"xlim": [float(v) for v in self.xlim], "ylim": [float(v) for v in self.ylim],
                "series": [line.wire() for line in self.lines],
                "start": None if self.start is None else [float(v) for v in self.start]}


@dataclass
class View:
    """All an explorer shows after a change. `panels` change rarely (sent only when they do), `frames` always.
    status: one to three lines above the plot, coloured by tone (good, bad, neutral); notes: (text, colour)
    lines below it (one per lane of the race); duration: the time the play button runs through."""

    panels: tuple
    frames: list
    status: str
    tone: str = "neutral"
    notes: list = field(default_factory=list)
    duration: float = 0.0
    time_label: str = "step"

    def __post_init__(self):
        if self.tone not in TONE_COLOURS:
            raise ValueError(f"tone must be one of {list(TONE_COLOURS)}, got {self.tone!r}")

    def lines(self):
        """label -> Line, over every panel (labels are unique)."""
        lines = {line.label: line for frame in self.frames for line in frame.lines}
        if len(lines) < sum(len(frame.lines) for frame in self.frames):
            labels = [line.label for frame in self.frames for line in frame.lines]
            raise ValueError(f"two lines share a label: {labels}")
        return lines


def start_slider(description):
    """A slider for one coordinate of the start point. It reports only the reader's own moves
    (continuous_update off): a browser slider snaps a value set from Python (a drag) to its step and would
    send that back as a second, different start."""
    return W.FloatSlider(description=description, readout_format=".2f", continuous_update=False)


def set_range(slider, low, high, value):
    """Move a start slider to the range [low, high] at `value`, with a round step (0.01 for a range of 4 to 15)
    so that a usual start lies on its grid. Widening first keeps min < max at every moment."""
    slider.min, slider.max = min(low, slider.min), max(high, slider.max)
    slider.value, slider.min, slider.max = value, low, high
    slider.step = 10 ** np.floor(np.log10((high - low) / 150))


# Round numbers per decade: what a log slider offers (a slider of round values moves by index in the browser,
# so the value Python sets is exactly the one the reader sees; a float slider would round it to its step).
ROUND_NUMBERS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)


def log_slider(description, low, high, value):
    """A slider over the round numbers from `low` to `high`, evenly spread on a log scale."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    values = [v for k in decades for m in ROUND_NUMBERS if low <= (v := float(f"{m}e{k}")) <= high]
    return W.SelectionSlider(options=[(f"{v:g}", v) for v in values], value=value, description=description)


def values_of(selection):
    """The values a menu or selection slider offers (its options are values, or (label, value) pairs)."""
    return [option[1] if isinstance(option, tuple) else option for option in selection.options]


def set_values(controls, **values):
    """Give controls the values a caller passed (None: keep the default), each checked against its control."""
    for name, value in values.items():
        if value is not None:
            controls[name].value = checked(value, name, controls[name])


def checked(value, name, control):
    """`value` if `control` can take it, rounded to the nearest value it offers; else an error naming `name` and
    what the control allows. (A browser's slider rounds to its step and sends that back: rounding here keeps
    the saved image and the live explorer on the same run.)"""
    if isinstance(control, W.Dropdown):
        return one_of(value, name, tuple(control.options))
    if isinstance(control, W.SelectionSlider):
        offered = values_of(control)
        number = positive(value, name)
        if not offered[0] <= number <= offered[-1]:
            raise ValueError(f"{name} must be between {offered[0]:g} and {offered[-1]:g}, got {number:g}")
        return min(offered, key=lambda option: abs(math.log(option / number)))
    number = count(value, name) if isinstance(control, W.IntSlider) else as_real(value, name)
    if not control.min <= number <= control.max:
        raise ValueError(f"{name} must be between {control.min:g} and {control.max:g}, got {number:g}")
    return type(number)(round(control.min + round((number - control.min) / control.step) * control.step, 10))


def pick_objective(menu, objective, x0, dims=(2,)):
    """The menu (label -> (Objective, start)) with `objective` chosen and `x0` as its start. objective: a label,
    the name of a menu objective in any case ("himmelblau"), or a gdlab Objective of dimension in `dims` with
    known minima, which joins the menu. Returns the new menu and the chosen label."""
    menu = dict(menu)
    if isinstance(objective, Objective):
        if objective.dim not in dims:
            raise ValueError(f"objective must be {' or '.join(map(str, dims))}-D to be drawn, got {objective.dim}-D")
        if objective.f_min is None:
            raise ValueError(f"objective must list its minima (the loss is shown as f - f*); {objective.name} has none")
        (x_lo, x_hi), *rest = objective.domain[: objective.dim]
        corner = [x_lo + 0.15 * (x_hi - x_lo)] + [hi - 0.15 * (hi - lo) for lo, hi in rest]
        label, menu[objective.name] = objective.name, (objective, tuple(corner))
    else:
        found = [label for label, (f, _) in menu.items() if str(objective).lower() in (label.lower(), f.name.lower())]
        if not found:
            names = [f.name for f, _ in menu.values()]
            raise ValueError(f"objective must be one of {list(menu)}, an objective's name ({', '.join(names)}), "
                             f"or a gdlab.functions.Objective; got {objective!r}")
        label = found[0]
    if x0 is not None:
        f = menu[label][0]
        menu[label] = (f, start_in(x0, f.domain[: f.dim]))
    return menu, label


def start_in(x0, box):
    """x0 as a tuple of floats, checked to lie in the plotted box ((low, high) per coordinate)."""
    x0 = as_point(x0, "x0", len(box))
    if not all(low <= v <= high for v, (low, high) in zip(x0, box)):
        raise ValueError(f"x0 must lie in the plotted box {tuple(box)}, got {x0.tolist()}")
    return tuple(x0.tolist())


class Explorer(W.VBox):
    """Controls in rows above the plot, wired to `update`. Handles for tests and curious learners:

    - `controls`: name -> widget, e.g. `box.controls["lr"].value = 0.5`;
    - `view`: the last View, `lines`: label -> Line as drawn (exact arrays), `status`: the message shown;
    - `plot`: the canvas widget; setting `box.plot.drag = [x, y, n]` is what dragging the start point does.

    start: the names of the controls that hold the start point's coordinates (a drag sets them, then
    redraws once). In a saved notebook the output also carries a PNG of the explorer as first shown.
    """

    def __init__(self, controls, update, rows=None, start=()):
        self.controls, self.plot, self._update, self._start, self._busy = controls, Plot(), update, start, False
        self.view, self.status, self._panels = None, "", None
        names = list(controls)
        rows = rows or [names[i:i + 3] for i in range(0, len(names), 3)]
        for control in controls.values():
            control.style.description_width = "104px"  # "momentum/β1", "warm-up epochs" in full
        super().__init__([W.HBox([controls[name] for name in row]) for row in rows] + [self.plot])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.plot.observe(self._on_drag, names="drag")
        self.refresh()

    @property
    def lines(self):
        return self.view.lines()

    def _on_change(self, _change):
        if not self._busy:  # an update that moves controls itself (new slider ranges) redraws once, at its end
            self.refresh()

    def _on_drag(self, change):
        """The browser moved the start: set the start sliders, redraw, and only then send the sliders their new
        values (the plot is what the reader watches)."""
        *point, request = change["new"]
        with contextlib.ExitStack() as later:
            self._busy = True
            try:
                for name, value in zip(self._start, point):
                    later.enter_context(self.controls[name].hold_sync())
                    self.controls[name].value = value
            finally:
                self._busy = False
            self.refresh(request)

    def refresh(self, request=0):
        self._busy = True
        try:
            view = self._update()
        except Exception as error:  # an explorer never prints a traceback: it says what went wrong, on the plot
            self.status = f"cannot draw this: {error}"
            self.plot.data = {**self.plot.data, "status": self.status,
                              "status_colour": TONE_COLOURS["bad"], "seq": request}
            return
        finally:
            self._busy = False
        if view.panels != self._panels:
            self.plot.figure = {"panels": [panel.wire() for panel in view.panels]}
            self._panels = view.panels
        self.view, self.status = view, view.status
        self.plot.data = {"panels": [frame.wire() for frame in view.frames], "status": view.status,
                          "status_colour": TONE_COLOURS[view.tone],
                          "notes": [{"text": text, "colour": colour} for text, colour in view.notes],
                          "duration": float(view.duration), "time_label": view.time_label, "seq": request}

    def _repr_mimebundle_(self, **kwargs):  # noqa: ARG002 (IPython passes include= and exclude=)
        """The widget view, and a PNG of it for GitHub and the course site, where no kernel runs."""
        from gdlab.widgets._static import png

        data = {"text/plain": f"{type(self).__name__}: {self.status}",
                WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": self.model_id},
                "image/png": base64.b64encode(png(self.view)).decode("ascii")}
        return data, get_repr_metadata()

    if hasattr(W.Widget, "_ipython_display_"):  # ipywidgets 7 (Colab) displays widgets through this hook instead
        def _ipython_display_(self, **kwargs):
            data, metadata = self._repr_mimebundle_()
            display(data, metadata=metadata, raw=True)
            self._handle_displayed(**kwargs)
