// swarm dashboard: the live page of a cluster (docs/dashboard.md).
// Preact + htm (no build step), uPlot for the hop rates, Cytoscape.js for the access graph;
// all three vendored in static/vendor (VENDORED.md). Snapshots arrive by server-sent events
// (/api/events), or by polling /api/snapshot where EventSource fails; the page never reloads.
"use strict";
const { html, render, useState, useEffect, useRef } = htmPreact;

// the same colours as `swarm place --plot` (cluster/plot.py)
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
// what tests and the curious can look at from the console
window.swarmDashboard = { updates: 0, snapshot: null, cy: null, chart: null,
                         timeline: null };

function colourOf(names, node) {
  const i = names.indexOf(node);
  return i < 0 ? "#999999" : COLOURS[i % COLOURS.length];
}

function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return i === 0 ? `${n} B` : `${n.toPrecision(3)} ${units[i]}`;
}

// a time of day to the millisecond (hops come faster than seconds)
function clock(t) {
  const d = new Date(t * 1000);
  return `${d.toLocaleTimeString()}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

function rate(x) { return x === null || x === undefined ? "" : x.toFixed(1); }

// ---- the stream of snapshots ------------------------------------------------------------
function useSnapshots() {
  const [snapshot, setSnapshot] = useState(null);
  const [live, setLive] = useState("connecting");
  useEffect(() => {
    let source = null, timer = null, failures = 0;
    const take = (s) => {
      if (!s) return;
      window.swarmDashboard.updates += 1;
      window.swarmDashboard.snapshot = s;
      setSnapshot(s);
      setLive("live");
    };
    const poll = async () => {  // the fallback: EventSource blocked by a proxy, say
      try {
        const answer = await fetch("/api/snapshot", { cache: "no-store" });
        take(await answer.json());
      } catch (e) { setLive("disconnected"); }
      timer = setTimeout(poll, 2000);
    };
    source = new EventSource("/api/events");
    source.onmessage = (e) => { failures = 0; take(JSON.parse(e.data)); };
    source.onerror = () => {
      failures += 1;
      setLive("reconnecting");
      if (failures >= 3 && timer === null) { source.close(); poll(); }
    };
    return () => { if (source) source.close(); if (timer) clearTimeout(timer); };
  }, []);
  return [snapshot, live];
}

// ---- nodes ------------------------------------------------------------------------------
const STATE_WORDS = { up: "up", down: "down", fenced: "declared gone", waiting: "waiting",
                      "store-failing": "store refusing writes" };

function reasons(counts) {
  return Object.entries(counts || {}).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} × ${k}`).join("\n");
}

function NodesTable({ nodes, names }) {
  const notes = nodes.filter((n) => n.detail);
  return html`<table id="nodes">
    <thead><tr><th>node</th><th>state</th><th>Refs</th><th>bytes</th>
      <th title="programs and tasks on the node, running or parked">programs</th>
      <th>parked</th><th>awaiting</th><th>hops in/s</th><th>hops out/s</th><th>unacked</th>
      <th>fetches</th><th>fallbacks</th><th>refused</th></tr></thead>
    <tbody>${nodes.map((n) => html`<tr data-node=${n.name} data-state=${n.state}>
      <td><span class="swatch" style=${`background:${colourOf(names, n.name)}`}></span>
        <span title=${n.endpoint}>${n.name}</span></td>
      <td><span class=${`state ${n.state}`} title=${n.detail}>
        ${STATE_WORDS[n.state] || n.state}${n.state === "waiting" ?
          ` for ${n.waiting_on.join(", ")}` : ""}</span></td>
      <td class="refs">${n.refs ?? ""}</td><td>${bytes(n.bytes)}</td>
      <td class="running">${n.running ?? ""}</td><td class="parked">${n.parked ?? ""}</td>
      <td>${n.awaiting ?? ""}</td>
      <td class="hops-in">${rate(n.hops_in_per_s)}</td><td>${rate(n.hops_out_per_s)}</td>
      <td>${n.unacked ?? ""}</td><td>${n.fetches ?? ""}</td>
      <td class="fallbacks" title=${reasons(n.fallback_reasons)}>${n.fallbacks ?? ""}</td>
      <td title=${reasons(n.refusals)}>${n.refused ?? ""}</td>
    </tr>`)}</tbody>
  </table>
  ${notes.length ? html`<ul id="node-notes">${notes.map((n) =>
    html`<li class=${`state-note ${n.state}`}><b>${n.name}</b>: ${n.detail}</li>`)}</ul>` : ""}
  <p class="note">Counters since each node started; rates over the last sample; unacked:
    hops sent and not yet acknowledged. Hover a node's name for its endpoint, its fallbacks
    and refusals for their reasons.</p>`;
}

// ---- fallbacks: where programs did not migrate, and why ---------------------------------
function Fallbacks({ nodes }) {
  const rows = [];
  for (const n of nodes) {
    for (const [why, count] of Object.entries(n.fallback_reasons || {})) {
      rows.push({ node: n.name, why, count });
    }
  }
  rows.sort((a, b) => b.count - a.count || a.node.localeCompare(b.node));
  const shown = rows.slice(0, 20);
  return html`<p class="note">A program that cannot be captured where it touches a Ref
      elsewhere (C code on its stack, a value that does not pickle) goes on where it is and
      fetches the value instead; each reason is told once on its stderr.</p>
    ${rows.length === 0 ? html`<p class="note" id="no-fallbacks">None so far: every program
      migrated.</p>` : html`<table id="fallbacks">
      <thead><tr><th>node</th><th>times</th><th class="why">reason</th></tr></thead>
      <tbody>${shown.map((r) => html`<tr data-node=${r.node}><td>${r.node}</td>
        <td>${r.count}</td><td class="why">${r.why}</td></tr>`)}</tbody></table>
      ${rows.length > shown.length ? html`<p class="note">${rows.length - shown.length} more
        reasons (hover a node's fallbacks).</p>` : ""}`}`;
}

// ---- hop rates over time (uPlot) --------------------------------------------------------
// A uPlot chart in a box as wide as its section, made again when the nodes change;
// options(): its height, series, axes... (`name`: where window.swarmDashboard keeps it)
function useChart(box, name, names, options) {
  const chart = useRef(null);
  useEffect(() => {
    const made = options();
    chart.current = new uPlot({ width: box.current.clientWidth || 600, ...made },
                              made.series.map(() => []), box.current);
    window.swarmDashboard[name] = chart.current;
    const resize = new ResizeObserver(() =>
      chart.current.setSize({ width: box.current.clientWidth, height: made.height }));
    resize.observe(box.current);
    return () => { resize.disconnect(); chart.current.destroy(); };
  }, [names.join(",")]);
  return chart;
}

function HopsChart({ history, names }) {
  const box = useRef(null);
  const chart = useChart(box, "chart", names, () => {
    const series = [{}];
    for (const n of names) {
      series.push({ label: `${n} in`, stroke: colourOf(names, n), width: 2, spanGaps: false });
      series.push({ label: `${n} out`, stroke: colourOf(names, n), width: 1, dash: [5, 4] });
    }
    return { height: 220, series, axes: [{}, { label: "hops / s" }],
             scales: { x: { time: true } } };
  });
  useEffect(() => {
    const data = [history.t];
    for (const n of names) {
      const h = history.nodes[n] || { in: [], out: [] };
      data.push(h.in, h.out);
    }
    chart.current.setData(data);
  }, [history]);
  return html`<div id="hops" ref=${box}></div>`;
}

// ---- the access graph (Cytoscape.js) ----------------------------------------------------
const GRAPH_STYLE = [
  { selector: "node", style: { "background-color": "data(colour)", width: "data(diam)",
                               height: "data(diam)", "border-width": 1,
                               "border-color": "#ffffff" } },
  { selector: "edge", style: { width: "data(width)", "line-color": "data(line)",
                               "curve-style": "haystack", opacity: 0.8 } },
  { selector: "node:selected", style: { "border-width": 3, "border-color": "#1d2330" } },
];

function AccessGraph({ graph, names }) {
  const box = useRef(null);
  const tip = useRef(null);
  const cy = useRef(null);
  const [colourBy, setColourBy] = useState("home");
  useEffect(() => {
    cy.current = cytoscape({ container: box.current, style: GRAPH_STYLE,
                             wheelSensitivity: 0.3, minZoom: 0.1, maxZoom: 5 });
    window.swarmDashboard.cy = cy.current;
    const show = (e, text) => {
      tip.current.textContent = text;
      tip.current.style.left = `${e.renderedPosition.x + 12}px`;
      tip.current.style.top = `${e.renderedPosition.y + 12}px`;
      tip.current.style.display = "block";
    };
    cy.current.on("mouseover", "node", (e) => {
      const d = e.target.data();
      show(e, `Ref ${d.id}\non ${d.home}${d.planned !== d.home ? `, the plan: ${d.planned}` : ""}` +
              `\n${bytes(d.size)}, traffic ${d.traffic.toFixed(1)}`);
    });
    cy.current.on("mouseover", "edge", (e) => {
      const d = e.target.data();
      show(e, `${d.source} - ${d.target}\nweight ${d.weight.toFixed(1)}` +
              (d.crossing ? " (a hop between nodes)" : " (on one node)"));
    });
    cy.current.on("mouseout", () => { tip.current.style.display = "none"; });
    return () => cy.current.destroy();
  }, []);
  useEffect(() => {
    const c = cy.current;
    const where = (r) => (colourBy === "plan" ? r[4] : r[1]);
    const home = new Map(graph.refs.map((r) => [r[0], where(r)]));
    const biggest = Math.max(1, ...graph.refs.map((r) => r[2]));
    const heaviest = Math.max(1e-9, ...graph.edges.map((e) => e[2]));
    const wanted = new Set(graph.refs.map((r) => r[0]));
    const wantedEdges = new Set(graph.edges.map((e) => `${e[0]}|${e[1]}`));
    const wasEmpty = c.nodes().length === 0;
    let changed = false;
    c.batch(() => {
      c.edges().forEach((e) => { if (!wantedEdges.has(e.id())) { e.remove(); changed = true; } });
      c.nodes().forEach((n) => { if (!wanted.has(n.id())) { n.remove(); changed = true; } });
      const extent = c.extent();
      for (const r of graph.refs) {
        const data = { id: r[0], home: r[1], size: r[2], traffic: r[3], planned: r[4],
                       colour: colourOf(names, where(r)),
                       diam: 8 + 22 * Math.sqrt(r[2] / biggest) };
        const el = c.getElementById(r[0]);
        if (el.nonempty()) { el.data(data); continue; }
        c.add({ group: "nodes", data, position: {
          x: extent.x1 + Math.random() * (extent.w || 400),
          y: extent.y1 + Math.random() * (extent.h || 400) } });
        changed = true;
      }
      for (const [a, b, w] of graph.edges) {
        const crossing = home.get(a) !== home.get(b);
        const data = { id: `${a}|${b}`, source: a, target: b, weight: w, crossing,
                       width: 0.5 + 5 * (w / heaviest), line: crossing ? "#333333" : "#c4c9d2" };
        const el = c.getElementById(data.id);
        if (el.nonempty()) { el.data(data); } else { c.add({ group: "edges", data }); changed = true; }
      }
    });
    if (changed) {
      c.layout({ name: "cose", animate: false, randomize: wasEmpty, fit: true, padding: 20,
                 nodeRepulsion: () => 9000, idealEdgeLength: () => 50 }).run();
    }
  }, [graph.at, colourBy, graph.refs.length]);
  const plan = graph.cut_plan === null || graph.cut_plan === undefined ? "" :
    ` The placer's plan: cut weight ${graph.cut_plan.toFixed(1)}, ${graph.moves} Refs ` +
    `(${bytes(graph.bytes_moved)}) would move (swarm place).`;
  const summary = `${graph.refs.length} of ${graph.total_refs} Refs and ` +
    `${graph.edges.length} of ${graph.total_edges} edges shown (the heaviest); cut weight ` +
    `(hops between nodes) now ${graph.cut_now === null ? "?" : graph.cut_now.toFixed(1)}.` +
    `${plan} Dark edges cross nodes; width is weight; hover for labels.`;
  return html`<div class="controls">
      <span>colour by</span>
      <button class=${colourBy === "home" ? "on" : ""} onClick=${() => setColourBy("home")}>
        where the Refs are</button>
      <button class=${colourBy === "plan" ? "on" : ""} onClick=${() => setColourBy("plan")}>
        the placer's plan</button>
    </div>
    <div id="graph" ref=${box}><div id="tooltip" ref=${tip}></div></div>
    <p class="note" id="graph-summary">${summary}</p>
    ${graph.error ? html`<p class="note warn">${graph.error}</p>` : ""}`;
}

// ---- programs in flight, with their cancel buttons ---------------------------------------
const OUTCOME_WORDS = {
  cancelled: "cancelled: stopped where it ran (KeyboardInterrupt in it; its client is told)",
  forwarded: "cancelled: it was on its way to a node, the cancel follows it",
  finished: "it had already ended",
};

function age(seconds) {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.floor(seconds % 60)} s`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function Programs({ snapshot }) {
  const programs = snapshot.programs;
  const [outcomes, setOutcomes] = useState({});
  const [last, setLast] = useState(null);
  const cancel = async (id) => {
    const root = id.split("/")[0];  // a task is cancelled with its program
    const note = (text) => {
      setOutcomes((o) => ({ ...o, [root]: text }));
      setLast({ id: root, text });
    };
    note("cancelling...");
    try {
      const answer = await fetch("/api/cancel", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ program: root }) });
      const a = await answer.json();
      note(a.error ? `not cancelled: ${a.error}` : (OUTCOME_WORDS[a.outcome] || a.outcome));
    } catch (e) { note(`not cancelled: the dashboard did not answer (${e})`); }
  };
  const states = programs.states || {};
  const count = (k) => states[k] || 0;
  return html`<p id="in-flight">${`Now: ${programs.total} in flight - ${count("running")} ` +
      `running, ${count("parked")} parked, ${count("sent") + count("waiting")} between ` +
      `nodes (${count("waiting")} waiting for an acknowledgement).`}</p>
    ${last ? html`<p id="cancel-outcome" data-program=${last.id}>
      Cancel <code>${last.id}</code>: ${last.text}</p>` : ""}
    ${programs.error ? html`<p class="note warn">${programs.error}</p>` : ""}
    <table id="program-list"><thead><tr><th>program</th><th>node</th><th>state</th>
      <th class="route">route so far</th><th>age</th><th></th></tr></thead>
    <tbody>${programs.rows.map((p) => {
      const root = p.id.split("/")[0];
      const between = p.state === "sent" || p.state === "waiting";
      return html`<tr data-program=${p.id} data-state=${p.state}>
        <td title=${`client ${p.client}`}><code>${p.id}</code>${p.task ? " (task)" : ""}</td>
        <td>${p.node}</td>
        <td><span class=${`pstate ${p.state}`}>${p.state}</span>${between ? ` → ${p.to}` : ""}</td>
        <td class="route">${p.route.join(" → ")}</td>
        <td>${age(Math.max(0, snapshot.at - p.since))}</td>
        <td><button class="cancel" disabled=${!!outcomes[root]}
          title=${p.task ? `cancels its program, ${root}` : "stops it wherever it is"}
          onClick=${() => cancel(p.id)}>${outcomes[root] ? "cancelling" : "cancel"}</button></td>
      </tr>`;
    })}</tbody></table>
    ${programs.total > programs.rows.length ? html`<p class="note">The
      ${programs.rows.length} oldest of ${programs.total} shown (swarm ps lists them
      all).</p>` : ""}
    ${programs.total === 0 ? html`<p class="note">No program in flight.</p>` : ""}`;
}

// ---- the hop timeline: recent hops over time (uPlot), the newest in a table -------------
function TimelineChart({ hops, names, now }) {
  const box = useRef(null);
  const [pointed, setPointed] = useState(null);
  const shown = useRef([]);
  const latest = useRef(now);
  const chart = useChart(box, "timeline", names, () => {
    const series = [{}];
    for (const n of names) {
      series.push({ label: `to ${n}`, stroke: colourOf(names, n), paths: () => null,
                    points: { show: true, size: 7, fill: colourOf(names, n) } });
    }
    return {
      height: 200, series, axes: [{}, { label: "latency (ms)" }],
      // time goes on to now, whether hops come or not
      scales: { x: { time: true, range: (u, min, max) => [
        Math.min(min ?? latest.current - 30, latest.current - 30), latest.current] } },
      hooks: { setCursor: [(u) => {
        const i = u.cursor.idx;
        setPointed(i === null || i === undefined ? null : shown.current[i]);
      }] },
    };
  });
  useEffect(() => {
    shown.current = hops;
    latest.current = now;
    const data = [hops.map((h) => h.at)];
    for (const n of names) {
      data.push(hops.map((h) => (h.to === n && h.us !== null ? h.us / 1000 : null)));
    }
    chart.current.setData(data);
  }, [hops, now]);
  return html`<div id="timeline-chart" ref=${box}></div>
    <p class="note" id="timeline-pointed">${pointed ? hopWords(pointed) :
      "Each dot is a hop, at the time it left, coloured by the node it went to; point at " +
      "one for its program, route, reason and size."}</p>`;
}

function hopWords(h) {
  return `${clock(h.at)}: ${h.program} ${h.from} → ${h.to} ` +
    `(${h.why}), ${bytes(h.bytes)}${latency(h) ? `, ${latency(h)}` : ""}`;
}

function latency(h) {
  if (h.us === null || h.us === undefined) return "";
  return h.us >= 1000 ? `${(h.us / 1000).toFixed(1)} ms` : `${h.us} µs`;
}

function Timeline({ snapshot, names }) {
  const hops = snapshot.hops;
  const newest = hops.recent.slice(-15).reverse();
  return html`<${TimelineChart} hops=${hops.recent} names=${names} now=${snapshot.at} />
    <table id="hop-list"><thead><tr><th>at</th><th class="id">program</th><th>from</th>
      <th>to</th><th class="why">why</th><th>bytes</th><th>latency</th></tr></thead>
    <tbody>${newest.map((h) => html`<tr data-hop=${h.hop}>
      <td>${clock(h.at)}</td><td class="id"><code>${h.program}</code></td>
      <td>${h.from}</td><td>${h.to}</td><td class="why">${h.why}</td><td>${bytes(h.bytes)}</td>
      <td>${latency(h)}</td></tr>`)}</tbody>
    </table>
    <p class="note" id="timeline-summary">${`${hops.seen} hops seen since the dashboard ` +
      `started; the chart shows the last ${hops.recent.length}, the table the newest ` +
      `${newest.length}. Latency: from the capture on one node to the arrival on the ` +
      `next, between their clocks.`}${hops.missed ? ` ${hops.missed} hops came and went ` +
      `between two samples (a node keeps its last 1,000): not shown.` : ""}</p>`;
}

// ---- the page ---------------------------------------------------------------------------
function App() {
  const [snapshot, live] = useSnapshots();
  if (!snapshot) {
    return html`<header><h1>swarm dashboard</h1><span class="live">${live}</span></header>
      <main><section class="wide"><p class="note">Waiting for the first answers of the
      nodes...</p></section></main>`;
  }
  const names = snapshot.nodes.map((n) => n.name);
  const up = snapshot.nodes.filter((n) => n.state === "up").length;
  return html`<header><h1>swarm dashboard</h1>
      <span class=${`live ${live === "live" ? "on" : ""}`} id="live">${live}</span>
      <span class="meta">${`${snapshot.cluster} · ${up} of ${names.length} nodes up · ` +
        `updated ${new Date(snapshot.at * 1000).toLocaleTimeString()}`}</span></header>
    <main>
      <section class="wide"><h2>Nodes</h2><${NodesTable} nodes=${snapshot.nodes} names=${names} /></section>
      <section class="wide" id="programs"><h2>Programs in flight</h2>
        <${Programs} snapshot=${snapshot} /></section>
      <section><h2>Hops per second (solid: in, dashed: out)</h2>
        <${HopsChart} history=${snapshot.history} names=${names} /></section>
      <section id="fallback-panel"><h2>Not migrating: fallbacks by reason</h2>
        <${Fallbacks} nodes=${snapshot.nodes} /></section>
      <section class="wide" id="timeline"><h2>Hop timeline</h2>
        <${Timeline} snapshot=${snapshot} names=${names} /></section>
      <section class="wide"><h2>Access graph, as the placer sees it</h2>
        <${AccessGraph} graph=${snapshot.graph} names=${names} /></section>
    </main>`;
}

const root = document.getElementById("app");
root.textContent = "";  // the "loading" line
render(html`<${App} />`, root);
