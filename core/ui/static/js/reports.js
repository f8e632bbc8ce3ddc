// Benchmarks (recent runs per device and model) and costs (by provider and model, per day,
// week or month): read when opened, and again with the button; they change slowly.
import { useEffect, useState } from "preact/hooks";
import { getJSON, Unauthorized } from "./api.js";
import { html, ago, number, usd } from "./html.js";

function useLoad(path, onUnauthorized) {
  const [state, setState] = useState({ data: null, error: null, at: 0 });
  const load = () =>
    getJSON(path).then(
      (data) => setState({ data, error: null, at: Date.now() }),
      (error) => (error instanceof Unauthorized ? onUnauthorized(error) : setState((s) => ({ ...s, error: error.message }))),
    );
  useEffect(() => {
    load();
  }, [path]);
  return [state, load];
}

export function Benchmarks({ onUnauthorized, now }) {
  const [{ data, error }, reload] = useLoad("/v1/benchmarks?limit=100", onUnauthorized);
  const rows = (data && data.benchmarks) || [];
  return html`<section aria-labelledby="bench-title">
    <h2 id="bench-title">Benchmarks <button type="button" class="small" onClick=${reload}>Refresh</button></h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data && !rows.length && html`<p class="muted">No benchmark has run yet (POST /v1/benchmarks/run).</p>`}
    ${rows.length > 0 &&
    html`<div class="scroll"><table>
      <thead><tr><th scope="col">device</th><th scope="col">model</th><th scope="col">task</th><th scope="col" class="num">tokens/s</th><th scope="col" class="num">latency</th><th scope="col">ok</th><th scope="col">when</th></tr></thead>
      <tbody>${rows.map(
        (b, i) => html`<tr key=${i}>
          <td class="mono small">${b.device_id || "—"}</td><td class="mono">${b.model}</td><td>${b.task_type}</td>
          <td class="num">${number(b.tps)}</td><td class="num">${b.latency_ms === null ? "—" : `${number(b.latency_ms, 0)} ms`}</td>
          <td>${b.ok ? html`<span class="badge ok">ok</span>` : html`<span class="badge bad" title=${b.error || ""}>failed</span>`}</td>
          <td class="small">${ago(b.created_at, now)}</td>
        </tr>`,
      )}</tbody>
    </table></div>`}
  </section>`;
}

export function Costs({ onUnauthorized }) {
  const [period, setPeriod] = useState("day");
  const [{ data, error }, reload] = useLoad(`/v1/costs/summary?period=${period}`, onUnauthorized);
  const rows = (data && data.by_model) || [];
  return html`<section aria-labelledby="costs-title">
    <h2 id="costs-title">Costs <button type="button" class="small" onClick=${reload}>Refresh</button></h2>
    <div class="tabs" role="group" aria-label="Period">
      ${["day", "week", "month"].map(
        (p) => html`<button type="button" key=${p} aria-pressed=${p === period} onClick=${() => setPeriod(p)}>${p}</button>`,
      )}
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data &&
    html`<p>Total <strong>${usd(data.total_usd)}</strong> over the last ${period}.</p>
      ${rows.length === 0
        ? html`<p class="muted">No finished job was costed in this period.</p>`
        : html`<div class="scroll"><table>
            <thead><tr><th scope="col">provider</th><th scope="col">model</th><th scope="col" class="num">jobs</th><th scope="col" class="num">tokens in</th><th scope="col" class="num">tokens out</th><th scope="col" class="num">cost</th></tr></thead>
            <tbody>${rows.map(
              (r) => html`<tr key=${`${r.provider}/${r.model}`}>
                <td>${r.provider}</td><td class="mono">${r.model}</td><td class="num">${number(r.jobs, 0)}</td>
                <td class="num">${number(r.tokens_in, 0)}</td><td class="num">${number(r.tokens_out, 0)}</td>
                <td class="num">${usd(r.cost_usd)}${r.unpriced_jobs ? html` <span class="muted small" title="jobs without a price">(${r.unpriced_jobs} unpriced)</span>` : ""}</td>
              </tr>`,
            )}</tbody>
          </table></div>`}`}
  </section>`;
}
