// The adhash dashboard: polls the server's JSON API and draws every chart on a <canvas>.
// No library and no network beyond this server. A token never passes through this script: the
// server turns ?token= into an HttpOnly cookie, which fetch sends with credentials: "same-origin".
"use strict";

const COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00"];
const MARKER_COLORS = { migration_started: "#8250df", compaction_started: "#bc4c00" };
const state = { timer: null, runId: null, lastSeq: -1, events: [], markers: [] };

function $(id) {
  return document.getElementById(id);
}

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = "status " + kind;
}

async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) {
    const error = new Error("unauthorized");
    error.unauthorized = true;
    throw error;
  }
  if (!response.ok) {
    const error = new Error("HTTP " + response.status);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function formatNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits ?? 0 });
}

function formatNs(ns) {
  if (ns >= 1e9) return (ns / 1e9).toPrecision(3) + " s";
  if (ns >= 1e6) return (ns / 1e6).toPrecision(3) + " ms";
  if (ns >= 1e3) return (ns / 1e3).toPrecision(3) + " µs";
  return Math.round(ns) + " ns";
}

// -- drawing ---------------------------------------------------------------------------------

function prepare(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = "11px system-ui, sans-serif";
  return ctx;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

function shortNumber(value) {
  if (Math.abs(value) >= 1e6) return (value / 1e6).toPrecision(3) + "M";
  if (Math.abs(value) >= 1e3) return (value / 1e3).toPrecision(3) + "k";
  return String(Math.round(value * 1000) / 1000);
}

// series: [{label, points: [[x, y], ...]}]; markers: [{t, type}] drawn as vertical lines.
function drawLines(canvas, series, markers) {
  const ctx = prepare(canvas);
  const left = 48, right = 8, top = 8, bottom = 34;
  const width = canvas.width - left - right, height = canvas.height - top - bottom;
  const all = series.flatMap((s) => s.points);
  canvas.dataset.points = String(all.length);
  if (all.length === 0) {
    ctx.fillStyle = "#57606a";
    ctx.fillText("waiting for data", left + 8, top + 20);
    return;
  }
  const xMin = Math.min(...all.map((p) => p[0]));
  const xMax = Math.max(...all.map((p) => p[0]), xMin + 1e-9);
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const x = (v) => left + ((v - xMin) / (xMax - xMin)) * width;
  const y = (v) => top + height - (v / yMax) * height;
  ctx.strokeStyle = "#eaeef2";
  ctx.fillStyle = "#57606a";
  for (let i = 0; i <= 4; i += 1) {
    const value = (yMax * i) / 4;
    ctx.beginPath();
    ctx.moveTo(left, y(value));
    ctx.lineTo(left + width, y(value));
    ctx.stroke();
    ctx.fillText(shortNumber(value), 2, y(value) + 4);
  }
  ctx.fillText(xMin.toFixed(1) + " s", left, top + height + 14);
  ctx.fillText(xMax.toFixed(1) + " s", left + width - 40, top + height + 14);
  for (const marker of markers || []) {
    if (marker.t < xMin || marker.t > xMax) continue;
    ctx.strokeStyle = MARKER_COLORS[marker.type] || "#57606a";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x(marker.t), top);
    ctx.lineTo(x(marker.t), top + height);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  series.forEach((s, index) => {
    ctx.strokeStyle = COLORS[index % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach((p, i) => (i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1]))));
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.fillStyle = COLORS[index % COLORS.length];
    ctx.fillText(s.label, left + 8 + index * 110, canvas.height - 4);
  });
}

// bars: [{label, value}] drawn left to right; labels every few bars.
function drawBars(canvas, bars) {
  const ctx = prepare(canvas);
  const left = 48, top = 8, bottom = 34, right = 8;
  const width = canvas.width - left - right, height = canvas.height - top - bottom;
  canvas.dataset.points = String(bars.length);
  if (bars.length === 0) {
    ctx.fillStyle = "#57606a";
    ctx.fillText("waiting for data", left + 8, top + 20);
    return;
  }
  const yMax = niceMax(Math.max(...bars.map((b) => b.value)));
  const step = width / bars.length;
  ctx.fillStyle = "#57606a";
  ctx.fillText(shortNumber(yMax), 2, top + 8);
  ctx.fillText("0", 2, top + height);
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  bars.forEach((bar, i) => {
    const barHeight = (bar.value / yMax) * height;
    ctx.fillStyle = COLORS[0];
    ctx.fillRect(left + i * step, top + height - barHeight, Math.max(1, step - 1), barHeight);
    if (i % labelEvery === 0) {
      ctx.fillStyle = "#57606a";
      ctx.fillText(bar.label, left + i * step, top + height + 14);
    }
  });
}

function drawHeatmap(canvas, grid) {
  const ctx = prepare(canvas);
  const cells = grid.cells || [];
  canvas.dataset.points = String(cells.length);
  if (!cells.length || !grid.rows || !grid.cols) {
    ctx.fillStyle = "#57606a";
    ctx.fillText("waiting for data", 8, 20);
    return;
  }
  const peak = Math.max(1, ...cells);
  const w = canvas.width / grid.cols, h = (canvas.height - 16) / grid.rows;
  cells.forEach((value, index) => {
    const share = Math.min(1, value / peak);
    const light = Math.round(96 - share * 60);
    ctx.fillStyle = "hsl(212, 90%, " + light + "%)";
    ctx.fillRect((index % grid.cols) * w, Math.floor(index / grid.cols) * h, w - 1, h - 1);
  });
  ctx.fillStyle = "#57606a";
  ctx.fillText(
    grid.capacity.toLocaleString("en-US") + " slots, " + grid.slot_span + " per cell",
    4,
    canvas.height - 3,
  );
}

// -- rendering the payloads -------------------------------------------------------------------

// "plain" or "salted", with the keys salting cannot hash by value (they may still collide).
function describeHashing(backend) {
  const unsalted = backend.unsalted_keys || 0;
  if (backend.hashing === "salted" && unsalted) {
    return "salted (" + formatNumber(unsalted) + " unsalted keys)";
  }
  return backend.hashing;
}

function renderSummary(summary) {
  const totals = summary.totals;
  const backend = summary.backend;
  $("card-state").textContent = summary.state;
  $("card-backend").textContent = backend
    ? backend.name + (backend.migrating_from ? " ← " + backend.migrating_from + " " +
      Math.round((backend.migration_progress || 0) * 100) + "%" : "")
    : "–";
  $("card-hashing").textContent = backend ? describeHashing(backend) : "–";
  $("card-flood").textContent = backend ? formatNumber(backend.flood_keys) : "–";
  const flooding = (summary.alerts || []).some((alert) => alert.metric === "flood_keys");
  $("card-flood-box").classList.toggle("alerting", flooding);
  $("card-ops").textContent = formatNumber(totals.ops);
  $("card-rate").textContent = summary.throughput ? formatNumber(summary.throughput.ema) : "–";
  $("card-size").textContent = backend ? formatNumber(backend.size) : "–";
  $("card-load").textContent = backend ? formatNumber(backend.load_factor, 3) : "–";
  $("card-migrations").textContent = totals.migrations + " / " + totals.compactions;
  $("card-alerts").textContent = String(totals.alerts_fired);
  const alerts = $("alerts");
  alerts.replaceChildren();
  for (const alert of summary.alerts || []) {
    const line = document.createElement("div");
    line.textContent = "⚠ " + alert.message;
    alerts.appendChild(line);
  }
  alerts.hidden = !(summary.alerts || []).length;
  if (summary.run_id !== state.runId) {
    state.runId = summary.run_id;
    state.lastSeq = -1;
    state.events = [];
    state.markers = [];
  }
}

function renderHistory(history) {
  const ticks = history.items.filter((tick) => tick.run_id === state.runId);
  const pick = (f) => ticks.map((tick) => [tick.t, f(tick)]).filter((p) => p[1] !== null && p[1] !== undefined);
  drawLines($("chart-throughput"), [
    { label: "instant", points: pick((t) => t.throughput.instant) },
    { label: "EMA", points: pick((t) => t.throughput.ema) },
  ], state.markers);
  const micros = (tick, label) => {
    const overall = tick.latency_ns.overall;
    return overall && overall[label] !== undefined ? overall[label] / 1000 : null;
  };
  drawLines($("chart-latency"), [
    { label: "p50 µs", points: pick((t) => micros(t, "p50")) },
    { label: "p99 µs", points: pick((t) => micros(t, "p99")) },
  ], state.markers);
  drawLines($("chart-load"), [{ label: "load factor", points: pick((t) => t.map.load_factor) }], state.markers);
  drawLines($("chart-probe"), [
    { label: "probe mean", points: pick((t) => t.map.probe_length_mean) },
    { label: "longest chain", points: pick((t) => t.map.chain_length_max) },
    { label: "flood keys", points: pick((t) => t.map.flood_keys) },
  ], state.markers);
  drawLines($("chart-tombstones"), [{ label: "tombstones", points: pick((t) => t.map.tombstone_ratio) }], state.markers);
}

function renderEvents(payload) {
  for (const event of payload.items) {
    state.lastSeq = Math.max(state.lastSeq, event.seq);
    state.events.unshift(event);
    if (MARKER_COLORS[event.type]) state.markers.push({ t: event.t, type: event.type });
  }
  state.events = state.events.slice(0, 50);
  const list = $("events");
  list.replaceChildren(...state.events.map((event) => {
    const item = document.createElement("li");
    item.textContent = event.t.toFixed(3) + " s  " + event.type + "  " + event.message;
    return item;
  }));
}

function renderLatencyHistogram(payload) {
  drawBars($("chart-latency-hist"), payload.buckets.map(([upper, count]) => ({ label: formatNs(upper), value: count })));
}

function renderProbeHistogram(payload) {
  $("probe-hist-caption").textContent = payload.kind === "chain" ? "Chain length histogram" : "Probe length histogram";
  drawBars($("chart-probe-hist"), payload.counts.map((count, length) => ({ label: String(length), value: count })));
}

async function renderComparison(loaded) {
  const section = $("compare");
  if (!loaded) {
    section.hidden = true;
    return;
  }
  const result = await getJSON("/api/compare");
  const baseline = (result.baseline || {}).label || "baseline";
  const candidate = (result.candidate || {}).label || "candidate";
  $("compare-title").textContent = baseline + " vs " + candidate;
  $("compare-rows").replaceChildren(...(result.metrics || []).map((metric) => {
    const row = document.createElement("tr");
    const change = typeof metric.change_pct === "number" ? metric.change_pct.toFixed(1) + " %" : "–";
    for (const [text, css] of [
      [metric.name, ""],
      [formatNumber(metric.baseline_median), ""],
      [formatNumber(metric.candidate_median), ""],
      [change, ""],
      [metric.verdict || "–", metric.verdict === "better" ? "better" : metric.verdict === "worse" ? "worse" : ""],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (css) cell.className = css;
      row.appendChild(cell);
    }
    return row;
  }));
  section.hidden = false;
}

// -- polling --------------------------------------------------------------------------------

async function poll() {
  try {
    // One request per poll: the server bundles what the page draws, prepared once per tick.
    const bundle = await getJSON("/api/dashboard?since=" + state.lastSeq);
    const summary = bundle.summary;
    // Events were filtered by the previous run's last seq: when the run changed, ask again.
    const staleEvents = summary.run_id !== state.runId && state.lastSeq !== -1;
    renderSummary(summary);
    if (!staleEvents) renderEvents(bundle.events);
    renderHistory(bundle.history);
    renderLatencyHistogram(bundle.latency);
    renderProbeHistogram(bundle.probe);
    drawHeatmap($("chart-heatmap"), bundle.heatmap);
    await renderComparison(summary.compare_loaded);
    if (summary.state === "waiting") {
      setStatus("connected: waiting for data", "waiting");
    } else {
      setStatus("connected: " + summary.state, "ok");
    }
  } catch (error) {
    if (error.unauthorized) {
      setStatus("token missing or wrong: open this page as " + location.origin + "/?token=YOUR_TOKEN", "error");
    } else if (error.status) {
      setStatus("server error: " + error.message, "error");
    } else {
      setStatus("server unreachable: retrying", "error");
    }
  }
}

function schedule() {
  if (state.timer !== null) clearInterval(state.timer);
  state.timer = setInterval(poll, Number($("poll").value));
}

$("poll").addEventListener("change", schedule);
poll();
schedule();
