// The newest jobs, live (each frame of the dashboard stream carries them), filtered by status,
// kind and source; the filter lives in the address (#/jobs?status=error) so it can be shared.
import { html, ago, shortId, StatusBadge } from "./html.js";

const STATUSES = ["", "queued", "running", "done", "error", "canceled"];

export function filterFrom(params) {
  return {
    status: params.get("status") || "",
    kind: params.get("kind") || "",
    source: params.get("source") || "",
  };
}

export function filterQuery(filter) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
  return params.toString();
}

function Filters({ filter }) {
  const apply = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const query = filterQuery({ status: form.get("status"), kind: form.get("kind").trim(), source: form.get("source").trim() });
    location.hash = "#/jobs" + (query ? `?${query}` : "");
  };
  return html`<form class="filters" onSubmit=${apply} role="search" aria-label="Filter jobs">
    <label>status <select name="status" value=${filter.status} onChange=${(e) => e.currentTarget.form.requestSubmit()}>
      ${STATUSES.map((s) => html`<option value=${s} key=${s}>${s || "any"}</option>`)}
    </select></label>
    <label>kind <input name="kind" value=${filter.kind} placeholder="any" size="16" /></label>
    <label>source <input name="source" value=${filter.source} placeholder="any" size="14" id="filter-source" /></label>
    <button type="submit">Filter</button>
  </form>`;
}

export function JobTable({ jobs, now, compact = false }) {
  if (!jobs.length) return html`<p class="muted">No jobs.</p>`;
  return html`<div class="scroll"><table class="jobs">
    <thead><tr>
      <th scope="col">job</th><th scope="col">status</th><th scope="col">kind</th>
      ${!compact && html`<th scope="col">source</th>`}<th scope="col">where</th><th scope="col">queued</th>
    </tr></thead>
    <tbody>
      ${jobs.map(
        (j) => html`<tr key=${j.id} data-job-id=${j.id} data-status=${j.status}>
          <td class="mono"><a href=${`#/jobs/${j.id}`} aria-label=${`job ${j.id}`}>${shortId(j.id)}</a></td>
          <td><${StatusBadge} status=${j.status} />${j.attempts > 1 ? html` <span class="muted small">×${j.attempts}</span>` : ""}</td>
          <td class="mono">${j.kind}</td>
          ${!compact && html`<td>${j.source || "—"}</td>`}
          <td class="small">${[j.provider, j.model, j.device_id].filter(Boolean).join(" · ") || "—"}</td>
          <td class="small" title=${j.queued_at}>${ago(j.queued_at, now)}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

export function Jobs({ frame, filter, now }) {
  return html`<section aria-labelledby="jobs-title">
    <h2 id="jobs-title">Jobs <span class="muted">newest ${frame.jobs.length}, live</span></h2>
    <${Filters} filter=${filter} />
    <${JobTable} jobs=${frame.jobs} now=${now} />
  </section>`;
}
