"""Interactive explorers: drag the start point, move the sliders, play the steps.

Each explorer is a function returning an ipywidgets container: core sliders and menus above a plot that your
browser draws (an anywidget, gdlab/widgets/explorer.js; Python sends it data only). Call it with no arguments
as the chapters do, or pass an objective, a start point or settings. Every explorer can be driven from code,
as the tests do: `box.controls["lr"].value = 0.5`, then read `box.lines["path"]` or `box.status`.
"""
from gdlab.widgets.lr import lr_explorer
from gdlab.widgets.minibatch import minibatch_explorer
from gdlab.widgets.momentum import momentum_explorer
from gdlab.widgets.race import optimizer_race
from gdlab.widgets.schedule import schedule_explorer

__all__ = ["lr_explorer", "momentum_explorer", "optimizer_race", "minibatch_explorer", "schedule_explorer"]
