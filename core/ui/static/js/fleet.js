// The fleet: every device (online or why not, models with measured tokens/s, load against its
// limit, breaker, limits in force), the cloud providers' breakers, and the live workers.
import { html, ago, number, duration } from "./html.js";

function Breaker({ breaker }) {
  if (!breaker) return html`<span class="muted">—</span>`;
  const state = breaker.state || "closed";
  return html`<span class="badge breaker-${state}" title=${breaker.last_error || ""}>${state}</span>`;
}

function Limits({ limits }) {
  if (!limits) return html`<span class="muted">none</span>`;
  const parts = [];
  for (const key of ["ram_gb", "vram_gb", "max_params_b", "max_size_gb", "max_context_k"]) {
    if (limits[key] !== null && limits[key] !== undefined) parts.push(`${key} ${limits[key]}`);
  }
  for (const key of ["allow_models", "deny_models"]) {
    if (limits[key] && limits[key].length) parts.push(`${key} ${limits[key].join(", ")}`);
  }
  return html`<span>${parts.length ? parts.join(" · ") : "auto"}</span>`;
}

function Device({ device, load, limit }) {
  const running = load ? load.running : 0;
  const models = device.models || [];
  const benchmarks = device.benchmarks || {};
  return html`
    <article class="card device ${device.online ? "online" : "offline"}" data-device=${device.id}>
      <header>
        <h3>${device.name || device.host_name || device.id}</h3>
        <span class="badge ${device.online ? "ok" : "bad"}">${device.online ? "online" : "offline"}</span>
      </header>
      <p class="muted small mono">${device.id}</p>
      ${!device.online &&
      html`<p class="why">${device.offline_reason || device.ollama_error || "not seen on the tailnet"}
        ${device.offline_at ? ` (${ago(device.offline_at)})` : ""}</p>`}
      ${device.online && !device.routable &&
      html`<p class="why">no Ollama here${device.ollama_error ? `: ${device.ollama_error}` : ""}</p>`}
      <dl class="facts">
        <div><dt>running</dt><dd><meter min="0" max=${limit} value=${running}></meter> ${running} / ${limit}</dd></div>
        <div><dt>breaker</dt><dd><${Breaker} breaker=${device.breaker} /></dd></div>
        <div><dt>latency</dt><dd>${device.latency_ms === null ? "—" : `${number(device.latency_ms, 0)} ms`}</dd></div>
        <div><dt>limits</dt><dd><${Limits} limits=${device.limits} /></dd></div>
      </dl>
      ${models.length > 0 &&
      html`<table class="models">
        <thead><tr><th scope="col">model</th><th scope="col">params</th><th scope="col">tokens/s</th></tr></thead>
        <tbody>
          ${models.map(
            (m) => html`<tr key=${m.name}>
              <td class="mono">${m.name}</td>
              <td>${m.parameter_size || "—"}</td>
              <td>${benchmarks[m.name] ? number(benchmarks[m.name].tps) : "—"}</td>
            </tr>`,
          )}
        </tbody>
      </table>`}
    </article>`;
}

export function Fleet({ frame }) {
  const loads = new Map((frame.snapshot.devices || []).map((d) => [d.id, d]));
  const limit = frame.snapshot.device_max_concurrency || 1;
  const workers = frame.snapshot.workers || [];
  const kinds = new Set(workers.flatMap((w) => w.kinds || []));
  const providers = [...new Set(["openai", "openrouter", ...Object.keys(frame.providers || {})])];
  const online = frame.devices.filter((d) => d.online).length;
  return html`
    <section aria-labelledby="fleet-title">
      <h2 id="fleet-title">Fleet <span class="muted">${online} of ${frame.devices.length} devices online</span></h2>
      ${frame.devices.length === 0 && html`<p class="muted">No devices yet: discovery has not found any Ollama.</p>`}
      <div class="grid devices">
        ${frame.devices.map(
          (d) => html`<${Device} key=${d.id} device=${d} load=${loads.get(d.id)} limit=${(loads.get(d.id) || {}).limit || limit} />`,
        )}
      </div>
      <div class="grid two">
        <div>
          <h3>Cloud providers</h3>
          <table><thead><tr><th scope="col">provider</th><th scope="col">workers</th><th scope="col">breaker</th></tr></thead><tbody>
            ${providers.map(
              (name) => html`<tr key=${name}>
                <td>${name}</td>
                <td>${kinds.has(`${name}.chat`) ? html`<span class="badge ok">available</span>` : html`<span class="muted">none</span>`}</td>
                <td><${Breaker} breaker=${(frame.providers || {})[name] || { state: "closed" }} /></td>
              </tr>`,
            )}
          </tbody></table>
        </div>
        <div>
          <h3>Workers</h3>
          ${workers.length === 0
            ? html`<p class="muted">No live worker.</p>`
            : html`<table><thead><tr><th scope="col">worker</th><th scope="col">running</th><th scope="col">seen</th></tr></thead><tbody>
                ${workers.map(
                  (w) => html`<tr key=${w.id}><td class="mono" title=${(w.kinds || []).join(", ")}>${w.name || w.id}</td><td>${w.running}</td><td>${duration(w.last_seen_seconds)} ago</td></tr>`,
                )}
              </tbody></table>`}
        </div>
      </div>
    </section>`;
}
