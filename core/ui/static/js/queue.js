// The queue: counts now, queued / running / failed by kind and provider, the oldest waiting
// job, and the last hour per minute as two small charts (uPlot).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { html, duration, number } from "./html.js";

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// One uPlot chart, created once and fed new data: a page open for hours keeps one canvas.
function Chart({ title, series, data }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const element = box.current; // the ref is null by the time cleanup runs
    const width = () => Math.max(200, element.clientWidth);
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") }, ticks: { stroke: cssVar("--line") } };
    plot.current = new uPlot(
      {
        width: width(),
        height: 160,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: cssVar(s.color), width: 2, points: { show: true, size: 4 }, spanGaps: false }))],
        axes: [axis, { ...axis, size: 56 }],
        scales: { x: { time: true } },
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => plot.current && plot.current.setSize({ width: width(), height: 160 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);
  return html`<figure class="chart"><figcaption>${title}</figcaption><div ref=${box} role="img" aria-label=${title}></div></figure>`;
}

// Sixty one-minute slots ending at the frame's minute: minutes without jobs are 0 finished
// and no latency, so the lines keep their place on the time axis.
function columns(history, generatedAt) {
  const end = Math.floor((generatedAt ? Date.parse(generatedAt) : Date.now()) / 60000) * 60;
  const byMinute = new Map(history.map((m) => [Date.parse(m.minute) / 1000, m]));
  const times = [];
  for (let t = end - 59 * 60; t <= end; t += 60) times.push(t);
  const at = (t, key, empty) => (byMinute.has(t) ? byMinute.get(t)[key] : empty);
  return {
    throughput: [times, times.map((t) => at(t, "done", 0)), times.map((t) => at(t, "failed", 0))],
    latency: [times, times.map((t) => at(t, "p50_ms", null)), times.map((t) => at(t, "p95_ms", null))],
  };
}

function Breakdown({ rows }) {
  if (!rows.length) return html`<p class="muted">Nothing queued, running or failed in the last hour.</p>`;
  return html`<table class="breakdown">
    <thead><tr><th scope="col">status</th><th scope="col">kind</th><th scope="col">provider</th><th scope="col" class="num">jobs</th></tr></thead>
    <tbody>
      ${rows.map(
        (r) => html`<tr key=${`${r.status}/${r.kind}/${r.provider}`}>
          <td><span class="badge status-${r.status}">${r.status}</span></td>
          <td class="mono"><a href=${`#/jobs?status=${r.status}&kind=${encodeURIComponent(r.kind)}`}>${r.kind}</a></td>
          <td>${r.provider || "—"}</td>
          <td class="num">${number(r.n, 0)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export function Queue({ frame, history }) {
  const snap = frame.snapshot;
  const jobs = snap.jobs;
  const cards = [
    ["queued", jobs.queued],
    ["running", jobs.running],
    ["done / h", jobs.done],
    ["failed / h", jobs.error],
    ["done / min", snap.throughput.done],
  ];
  return html`
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">Queue</h2>
      <div class="stats">
        ${cards.map(([label, value]) => html`<div class="stat" key=${label}><span class="value">${number(value, 0)}</span><span class="label">${label}</span></div>`)}
        <div class="stat"><span class="value">${snap.oldest_queued_seconds === null ? "—" : duration(snap.oldest_queued_seconds)}</span><span class="label">oldest waiting</span></div>
      </div>
      <div class="grid two">
        <${Chart} title="Jobs finished per minute (last hour)" data=${history.throughput}
          series=${[{ label: "done", color: "--ok" }, { label: "failed", color: "--bad" }]} />
        <${Chart} title="Queued → finished, ms (p50, p95)" data=${history.latency}
          series=${[{ label: "p50", color: "--accent" }, { label: "p95", color: "--warn" }]} />
      </div>
      <${Breakdown} rows=${frame.breakdown} />
    </section>`;
}

export { columns as historyColumns };
