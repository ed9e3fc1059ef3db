// The drawing side of gdlab's explorers (an anywidget ES module: no build step, no network).
//
// Python computes every number and sends two traits:
//   figure  what changes rarely: the panels, their titles and axis labels, contour lines, minima;
//   data    what every control change redraws: axis ranges, lines, the start point, the status.
// Arrays travel as base64 text of little-endian float32 (compact, and plain JSON in every widget manager);
// a NaN breaks a line. This file draws them on a canvas, lets the reader drag the start point (sent back as
// the `drag` trait: [x, y, request number]) and plays the steps back.

const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TITLE_FONT = "600 13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const INK = "#1f1f1f";
const GRID = "#e8e8e8";
const MARGIN = { left: 64, right: 16, top: 30, bottom: 46 };
const ROW_HEIGHT = 380; // CSS pixels per row of panels
const STACK_BELOW = 660; // narrower than this, the panels stack
const PLAY_MS = 3000;

/** base64 text of float32 values -> Float32Array. */
function decode(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** data -> pixel map on a linear or log axis, with its inverse. */
function scale([lo, hi], log, from, to) {
  const f = log ? Math.log10 : (v) => v;
  const a = f(lo), b = f(hi);
  const map = (v) => from + ((f(v) - a) / (b - a)) * (to - from);
  map.invert = (p) => {
    const t = a + ((p - from) / (to - from)) * (b - a);
    return log ? 10 ** t : t;
  };
  return map;
}

const SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074",
                      5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

/** About five round tick values in [lo, hi], with their labels. */
function ticks([lo, hi], log) {
  if (log) {
    const first = Math.ceil(Math.log10(lo) - 1e-9), last = Math.floor(Math.log10(hi) + 1e-9);
    const every = Math.max(1, Math.ceil((last - first + 1) / 7));
    const out = [];
    for (let k = first; k <= last; k += every) {
      out.push({ value: 10 ** k, label: "10" + [...String(k)].map((c) => SUPERSCRIPT[c]).join("") });
    }
    return out;
  }
  const rough = (hi - lo) / 5, power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / power === 2.5 ? 1 : 0));
  const out = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    out.push({ value: v, label: (Math.abs(v) < step / 2 ? 0 : v).toFixed(decimals) });
  }
  return out;
}

/** Turn the traits into drawable objects: decoded arrays, and each series' time per point for playback. */
function prepareFigure(figure) {
  return (figure.panels || []).map((panel) => ({
    ...panel,
    contours: (panel.contours || []).map((c) => ({ shade: c.shade, xy: decode(c.xy) })),
    minima: panel.minima ? decode(panel.minima) : new Float32Array(0),
  }));
}

function prepareData(data) {
  return {
    ...data,
    panels: (data.panels || []).map((panel) => ({
      ...panel,
      series: panel.series.map((s) => {
        const x = decode(s.x), y = decode(s.y);
        const time = s.time_is_x ? x : Float32Array.from(x, (_, i) => i * (s.dt ?? 1));
        return { ...s, x, y, time };
      }),
    })),
  };
}

/** Where each panel and its plot area are, in CSS pixels: side by side, or stacked when narrow. */
function layout(count, width) {
  const columns = width >= STACK_BELOW ? count : 1;
  const cell = width / columns;
  return Array.from({ length: count }, (_, i) => {
    const x = (i % columns) * cell, y = Math.floor(i / columns) * ROW_HEIGHT;
    return {
      x, y, width: cell, height: ROW_HEIGHT,
      plot: { left: x + MARGIN.left, top: y + MARGIN.top, right: x + cell - MARGIN.right,
              bottom: y + ROW_HEIGHT - MARGIN.bottom },
      rows: Math.ceil(count / columns),
    };
  });
}

function star(ctx, x, y, radius) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? radius * 0.45 : radius, angle = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + r * Math.cos(angle), y + r * Math.sin(angle));
  }
  ctx.closePath();
  ctx.fillStyle = "#F0E442";
  ctx.fill();
  ctx.strokeStyle = INK;
  ctx.lineWidth = 1;
  ctx.stroke();
}

function dot(ctx, x, y, radius, fill, edge = INK) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.strokeStyle = edge;
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

/** Pixels far outside the plot (a diverging path) are pulled in: canvas coordinates must stay finite. */
const clampPixel = (p) => Math.max(-1e5, Math.min(1e5, p));

/** One series, up to time `until`; returns the last point drawn (for the play cursor). */
function drawSeries(ctx, s, sx, sy, ylog, until) {
  ctx.strokeStyle = s.colour;
  ctx.lineWidth = s.width ?? 1.5;
  ctx.setLineDash(s.dash ?? []);
  ctx.beginPath();
  let pen = false, last = null;
  const points = [];
  for (let i = 0; i < s.x.length && s.time[i] <= until; i++) {
    const x = s.x[i], y = s.y[i];
    if (!Number.isFinite(x) || !Number.isFinite(y) || (ylog && y <= 0)) {
      pen = false;
      continue;
    }
    const px = clampPixel(sx(x)), py = clampPixel(sy(y));
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
    last = [px, py];
    if (s.dots) points.push(last);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  if (points.length) {
    ctx.fillStyle = s.colour;
    ctx.beginPath();
    for (const [px, py] of points) {
      ctx.moveTo(px + 2.2, py);
      ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
    }
    ctx.fill();
  }
  return last;
}

function drawLegend(ctx, entries, plot, corner) {
  if (!entries.length) return;
  ctx.font = FONT;
  const width = 42 + Math.max(...entries.map((e) => ctx.measureText(e.label).width));
  const height = 8 + 18 * entries.length;
  const x = corner.endsWith("left") ? plot.left + 8
    : corner.endsWith("center") ? (plot.left + plot.right - width) / 2 : plot.right - width - 8;
  const y = corner.startsWith("lower") ? plot.bottom - height - 8 : plot.top + 8;
  ctx.fillStyle = "rgba(255, 255, 255, 0.88)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(x, y, width, height);
  ctx.strokeRect(x + 0.5, y + 0.5, width - 1, height - 1);
  entries.forEach((e, i) => {
    const cy = y + 13 + 18 * i;
    if (e.marker === "star") star(ctx, x + 16, cy, 6);
    else if (e.marker === "start") dot(ctx, x + 16, cy, 5, "#ffffff");
    else {
      ctx.strokeStyle = e.colour;
      ctx.lineWidth = e.width ?? 1.5;
      ctx.setLineDash(e.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(x + 6, cy);
      ctx.lineTo(x + 26, cy);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.fillStyle = INK;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(e.label, x + 32, cy);
  });
}

/** Frame, grid, ticks, labels and title of one panel. */
function drawAxes(ctx, panel, box, xrange, yrange, sx, sy) {
  const { plot } = box;
  ctx.font = FONT;
  ctx.fillStyle = INK;
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(xrange, panel.xlog)) {
    const px = Math.round(sx(t.value)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, plot.top);
    ctx.lineTo(px, plot.bottom);
    ctx.stroke();
    ctx.fillText(t.label, px, plot.bottom + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of ticks(yrange, panel.ylog)) {
    const py = Math.round(sy(t.value)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(plot.left, py);
    ctx.lineTo(plot.right, py);
    ctx.stroke();
    ctx.fillText(t.label, plot.left - 6, py);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(panel.xlabel, (plot.left + plot.right) / 2, box.y + box.height - 6);
  ctx.save();
  ctx.translate(box.x + 14, (plot.top + plot.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(panel.ylabel, 0, 0);
  ctx.restore();
  ctx.font = TITLE_FONT;
  ctx.textBaseline = "bottom";
  ctx.fillText(panel.title, (plot.left + plot.right) / 2, plot.top - 8, box.width - 8);
}

/** Contour lines in grey, darker for lower levels, drawn once into an image of the plot area and reused. */
function contourLayer(panel, plot, sx, sy, ratio) {
  const canvas = document.createElement("canvas");
  canvas.width = Math.ceil((plot.right - plot.left) * ratio);
  canvas.height = Math.ceil((plot.bottom - plot.top) * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.translate(-plot.left, -plot.top);
  ctx.lineWidth = 1;
  for (const { shade, xy } of panel.contours) {
    const grey = Math.round(120 + 110 * shade);
    ctx.strokeStyle = `rgb(${grey}, ${grey}, ${grey})`;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xy.length; i += 2) {
      if (Number.isNaN(xy[i])) {
        pen = false;
        continue;
      }
      const px = sx(xy[i]), py = sy(xy[i + 1]);
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }
  return canvas;
}

function button(label) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.style.cssText = "font: 13px system-ui, sans-serif; padding: 3px 12px; border: 1px solid #888; " +
    "border-radius: 4px; background: #f6f6f6; color: #1f1f1f; cursor: pointer; min-width: 84px";
  return b;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "gdlab-explorer";
  root.style.cssText = "background: #ffffff; color: #1f1f1f; padding: 6px 4px; border-radius: 4px; " +
    "max-width: 1000px; font: 13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  const status = document.createElement("div");
  status.setAttribute("role", "status");
  // room for three lines, the most any explorer says: a status that grows would move the plot under a dragging pointer
  status.style.cssText = "white-space: pre-line; font-weight: 600; line-height: 1.3; min-height: 3.9em; padding: 0 8px";
  const toolbar = document.createElement("div");
  toolbar.style.cssText = "display: flex; gap: 12px; align-items: center; padding: 4px 8px; flex-wrap: wrap";
  const play = button("\u25b6 Play");
  const clock = document.createElement("span");
  clock.style.cssText = "font-variant-numeric: tabular-nums; min-width: 9em";
  const hint = document.createElement("span");
  hint.style.cssText = "color: #555555";
  toolbar.append(play, clock, hint);
  const canvas = document.createElement("canvas");
  canvas.tabIndex = 0;
  canvas.setAttribute("aria-label", "Explorer plot: click it, then arrow keys move the start point (Shift: faster)");
  canvas.style.cssText = "display: block; width: 100%; touch-action: none; outline-offset: 2px";
  const notes = document.createElement("div");
  notes.style.cssText = "padding: 4px 8px; line-height: 1.6";
  root.append(status, toolbar, canvas, notes);
  el.appendChild(root);
  root.timings = []; // what the browser test reads: one record per repaint

  let figure = prepareFigure(model.get("figure"));
  let data = prepareData(model.get("data"));
  let boxes = [], width = 0, ratio = 1, layers = new Map();
  let playing = null, until = Infinity; // playback: the time shown, Infinity when showing everything
  let dragging = false, preview = null; // a drag under way, and the start point under the pointer meanwhile
  let rawMoves = false; // this drag's moves come as pointerrawupdate too (Chrome, Edge): they send the requests
  let request = null, awaiting = null, sent = 0; // drag requests: the next one to send, the one in flight

  const dragPanel = () => figure.findIndex((p) => p.drag);

  function ranges(i) {
    const d = data.panels[i] || {};
    return [d.xlim || [0, 1], d.ylim || [0, 1]];
  }

  function scales(i) {
    const [xrange, yrange] = ranges(i), { plot } = boxes[i], panel = figure[i];
    return [scale(xrange, panel.xlog, plot.left, plot.right), scale(yrange, panel.ylog, plot.bottom, plot.top)];
  }

  function draw(kind) {
    const started = performance.now();
    if (!boxes.length) return null; // not laid out yet (a hidden output has no width): drawn on resize
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    figure.forEach((panel, i) => {
      const box = boxes[i], { plot } = box, d = data.panels[i] || { series: [] };
      const [xrange, yrange] = ranges(i), [sx, sy] = scales(i);
      drawAxes(ctx, panel, box, xrange, yrange, sx, sy);
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
      ctx.clip();
      if (panel.contours.length) {
        const key = JSON.stringify([i, xrange, yrange, width, ratio]);
        if (!layers.has(key)) layers.set(key, contourLayer(panel, plot, sx, sy, ratio));
        ctx.drawImage(layers.get(key), plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
      }
      const guides = panel.guides || { x: [], y: [] };
      ctx.strokeStyle = "#444444";
      ctx.lineWidth = 1;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      for (const gx of guides.x) (ctx.moveTo(sx(gx), plot.top), ctx.lineTo(sx(gx), plot.bottom));
      for (const gy of guides.y) (ctx.moveTo(plot.left, sy(gy)), ctx.lineTo(plot.right, sy(gy)));
      ctx.stroke();
      ctx.setLineDash([]);
      const cursors = [];
      for (const s of d.series) {
        const last = drawSeries(ctx, s, sx, sy, panel.ylog, until);
        if (last && until !== Infinity && s.time.length > 1) cursors.push([last, s.colour]);
      }
      for (let k = 0; k < panel.minima.length; k += 2) star(ctx, sx(panel.minima[k]), sy(panel.minima[k + 1]), 8);
      for (const [[px, py], colour] of cursors) dot(ctx, px, py, 4.5, colour, "#ffffff");
      const start = (panel.drag && preview) || d.start;
      if (panel.drag && start) dot(ctx, clampPixel(sx(start[0])), clampPixel(sy(start[1])), 6.5, "#ffffff");
      ctx.restore();
      ctx.strokeStyle = "#999999";
      ctx.lineWidth = 1;
      ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.right - plot.left - 1, plot.bottom - plot.top - 1);
      const entries = d.series.filter((s) => s.label && s.legend !== false);
      if (panel.guides && panel.guides.label) {
        entries.push({ label: panel.guides.label, colour: "#444444", width: 1, dash: [5, 4] });
      }
      if (panel.minima.length) entries.push({ label: "minimum", marker: "star" });
      if (panel.drag && d.start) entries.push({ label: "start (drag it)", marker: "start" });
      if (panel.legend) drawLegend(ctx, entries, plot, panel.legend);
    });
    const paintedAt = performance.now();
    root.timings.push({ kind, paintedAt, drawMs: paintedAt - started });
    if (root.timings.length > 1000) root.timings.splice(0, 500);
    return paintedAt;
  }

  function showText() {
    status.textContent = data.status || "";
    status.style.color = data.status_colour || INK;
    notes.replaceChildren(...(data.notes || []).map((note) => {
      const line = document.createElement("div");
      const swatch = document.createElement("span");
      swatch.style.cssText = `display: inline-block; width: 18px; height: 4px; margin: 0 8px 3px 0; ` +
        `vertical-align: middle; background: ${note.colour}`;
      line.append(swatch, note.text);
      return line;
    }));
    const label = data.time_label || "step";
    clock.textContent = until === Infinity ? `${label}s: ${Math.round(data.duration || 0)}`
      : `${label} ${Math.floor(until)} / ${Math.round(data.duration || 0)}`;
    hint.textContent = dragPanel() < 0 ? "" : "Drag the white dot, or click where it should go; arrow keys nudge it.";
  }

  function resize() {
    const cssWidth = root.clientWidth - 8;
    if (cssWidth <= 0) return;
    width = cssWidth;
    ratio = window.devicePixelRatio || 1;
    boxes = layout(figure.length, width);
    const height = (boxes[0] ? boxes[0].rows : 1) * ROW_HEIGHT;
    canvas.style.height = `${height}px`;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    layers.clear();
    draw("resize");
  }

  // --- playback: reveal the steps over PLAY_MS ----------------------------------------------------------
  function stopPlaying() {
    if (playing) cancelAnimationFrame(playing);
    playing = null;
    until = Infinity;
    play.textContent = "\u25b6 Play";
  }

  function startPlaying() {
    const began = performance.now(), duration = data.duration || 0;
    play.textContent = "\u275a\u275a Pause";
    const tick = () => {
      until = Math.min(duration, ((performance.now() - began) / PLAY_MS) * duration);
      showText();
      draw("play");
      if (until < duration) playing = requestAnimationFrame(tick);
      else {
        stopPlaying();
        showText();
        draw("play");
      }
    };
    playing = requestAnimationFrame(tick);
  }

  play.addEventListener("click", () => (playing ? (stopPlaying(), showText(), draw("play")) : startPlaying()));

  // --- the start point: drag, click or arrow keys; the latest position is sent once the last one is answered --
  function sendLatest() {
    if (!request || awaiting) return;
    awaiting = { ...request, seq: ++sent, sentAt: performance.now() };
    request = null;
    model.set("drag", [awaiting.x, awaiting.y, awaiting.seq]);
    model.save_changes();
    const seq = awaiting.seq;
    setTimeout(() => { // an answer lost (kernel busy or restarted) must not freeze the drag
      if (awaiting && awaiting.seq === seq) {
        awaiting = null;
        sendLatest();
      }
    }, 2000);
  }

  /** The start point for a pointer or key at data point (x, y): kept inside the plot, snapped onto a guide line. */
  function startAt(x, y) {
    const i = dragPanel(), [[x0, x1], [y0, y1]] = ranges(i);
    x = Math.min(Math.max(x, x0), x1);
    y = figure[i].drag === "x" ? (data.panels[i].start || [x, 0])[1] : Math.min(Math.max(y, y0), y1);
    const guides = figure[i].guides || { x: [], y: [] }, [sx, sy] = scales(i);
    for (const gx of guides.x) if (Math.abs(sx(x) - sx(gx)) < 7) x = gx;
    for (const gy of guides.y) if (Math.abs(sy(y) - sy(gy)) < 7) y = gy;
    return [x, y];
  }

  /** Show the start at once and ask the kernel for its paths (send: false when a pointerrawupdate asked already). */
  function moveStart(x, y, eventAt, send = true) {
    preview = startAt(x, y);
    if (send) request = { x: preview[0], y: preview[1], eventAt };
    stopPlaying();
    const paintedAt = draw("preview");
    if (paintedAt !== null) root.timings[root.timings.length - 1].latency = paintedAt - eventAt;
    sendLatest();
  }

  function pointerData(event) {
    const i = dragPanel(), rect = canvas.getBoundingClientRect(), [sx, sy] = scales(i);
    const px = event.clientX - rect.left, py = event.clientY - rect.top, { plot } = boxes[i];
    const inside = px >= plot.left && px <= plot.right && py >= plot.top && py <= plot.bottom;
    return { x: sx.invert(px), y: sy.invert(py), inside, px, py };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (dragPanel() < 0 || !boxes.length) return;
    const p = pointerData(event);
    if (!p.inside) return;
    dragging = true;
    rawMoves = false;
    canvas.setPointerCapture(event.pointerId);
    canvas.style.cursor = "grabbing";
    moveStart(p.x, p.y, event.timeStamp);
  });
  // Chrome and Edge deliver a pointer move at once as `pointerrawupdate`, and as `pointermove` only with the next
  // frame (4 ms later, measured): where the browser has it, the kernel is asked from the first; the second repaints.
  canvas.addEventListener("pointerrawupdate", (event) => {
    if (!dragging || !boxes.length) return;
    rawMoves = true;
    const p = pointerData(event), [x, y] = startAt(p.x, p.y);
    request = { x, y, eventAt: event.timeStamp };
    sendLatest();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (dragPanel() < 0 || !boxes.length) return;
    const p = pointerData(event);
    if (dragging) return moveStart(p.x, p.y, event.timeStamp, !rawMoves);
    const start = data.panels[dragPanel()]?.start, [sx, sy] = scales(dragPanel());
    const near = start && Math.hypot(sx(start[0]) - p.px, sy(start[1]) - p.py) < 12;
    canvas.style.cursor = near ? "grab" : p.inside ? "crosshair" : "default";
  });
  const release = () => {
    dragging = false;
    canvas.style.cursor = "default";
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const i = dragPanel(), start = i >= 0 && (preview || data.panels[i]?.start);
    if (!moves[event.key] || !start) return;
    event.preventDefault();
    const [[x0, x1], [y0, y1]] = ranges(i), [dx, dy] = moves[event.key], step = event.shiftKey ? 0.1 : 0.02;
    moveStart(start[0] + dx * step * (x1 - x0), start[1] + dy * step * (y1 - y0), event.timeStamp);
  });

  /** For tests: the drag panel's start point in client pixels, its lines (label, first point, length) and the
   * number of the last drag request answered; `dragBox()`: that panel's [xlim, ylim]; `pixel(x, y)`: where a
   * data point of that panel is on screen. */
  root.probe = () => {
    const i = dragPanel();
    const start = i >= 0 && boxes.length ? data.panels[i].start : null;
    return {
      start: start && root.pixel(...start),
      lines: i < 0 ? [] : data.panels[i].series.map((s) => ({ label: s.label, first: [s.x[0], s.y[0]],
                                                                 length: s.x.length })),
      seq: data.seq,
    };
  };
  root.dragBox = () => ranges(dragPanel());
  root.pixel = (x, y) => {
    const [sx, sy] = scales(dragPanel()), rect = canvas.getBoundingClientRect();
    return [rect.left + sx(x), rect.top + sy(y)];
  };

  // --- what Python sends -------------------------------------------------------------------------------
  const onFigure = () => {
    figure = prepareFigure(model.get("figure"));
    boxes = layout(figure.length, width);
    layers.clear();
    resize();
  };
  const onData = () => {
    data = prepareData(model.get("data"));
    stopPlaying();
    showText();
    const answered = awaiting && data.seq >= awaiting.seq ? awaiting : null;
    if (answered) awaiting = null;
    if (!dragging && !request && !awaiting) preview = null;
    const paintedAt = draw(answered ? "drag" : "data");
    if (answered && paintedAt !== null) { // latency: from the pointer event; roundTrip: from sending it
      Object.assign(root.timings[root.timings.length - 1], { seq: answered.seq, latency: paintedAt - answered.eventAt,
                                                             roundTrip: paintedAt - answered.sentAt });
    }
    sendLatest();
  };
  model.on("change:figure", onFigure);
  model.on("change:data", onData);
  const observer = new ResizeObserver(() => resize());
  observer.observe(root);
  showText();
  resize();

  return () => {
    observer.disconnect();
    stopPlaying();
    model.off("change:figure", onFigure);
    model.off("change:data", onData);
  };
}

export default { render };
