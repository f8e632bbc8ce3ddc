// One job: its request, its result (tokens as they stream in), the events timeline, attempts
// with their workers and errors, routing, cost; cancel and retry.
import { useEffect, useState } from "preact/hooks";
import { follow, getJSON, postJSON } from "./api.js";
import { html, ago, number, usd, StatusBadge } from "./html.js";

const TERMINAL = new Set(["done", "error", "canceled"]);
const MAX_TEXT = 200000; // what the page keeps of a streamed answer (the result has it all)
const MAX_TIMELINE = 300;

function answerText(job) {
  const result = job && job.result;
  if (!result) return "";
  if (typeof result.text === "string") return result.text;
  const data = result.data || {};
  if (typeof data.response === "string") return data.response;
  if (data.message && typeof data.message.content === "string") return data.message.content;
  if (data.choices && data.choices[0]) {
    const choice = data.choices[0];
    return (choice.message && choice.message.content) || choice.text || "";
  }
  return "";
}

function addToTimeline(timeline, event) {
  const last = timeline[timeline.length - 1];
  // Token chunks are many: one line per run of them, with a count.
  if (event.type === "progress" && last && last.type === "progress") {
    return [...timeline.slice(0, -1), { ...last, count: last.count + 1 }];
  }
  const next = [...timeline, { type: event.type, at: event.created_at, data: event.data, count: 1 }];
  return next.length > MAX_TIMELINE ? next.slice(-MAX_TIMELINE) : next;
}

function Json({ value }) {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

export function JobPage({ jobId, onUnauthorized, now }) {
  const [job, setJob] = useState(null);
  const [extras, setExtras] = useState(null);
  const [streamed, setStreamed] = useState("");
  const [timeline, setTimeline] = useState([]);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    setJob(null);
    setStreamed("");
    setTimeline([]);
    setProblem(null);
    const loadExtras = () =>
      getJSON(`/v1/dashboard/jobs/${jobId}`, { signal: abort.signal }).then(setExtras, () => {});
    loadExtras();
    follow(`/v1/jobs/${jobId}/stream`, {
      signal: abort.signal,
      onUnauthorized,
      isFinal: (event) => TERMINAL.has(event.event),
      onState: () => {},
      onEvent(event) {
        const body = JSON.parse(event.data);
        if (event.event === "job") {
          setJob(body);
          return;
        }
        setTimeline((t) => addToTimeline(t, body));
        if (event.event === "progress" && body.data && body.data.delta) {
          setStreamed((text) => (text.length > MAX_TEXT ? text : text + body.data.delta));
        }
        if (body.job) setJob(body.job);
        else setJob((j) => (j ? { ...j, status: event.event === "running" ? "running" : j.status } : j));
        if (TERMINAL.has(event.event) || event.event === "retry" || event.event === "running") loadExtras();
        // The cost is written just after the job ends: read it once more a moment later.
        if (TERMINAL.has(event.event)) setTimeout(loadExtras, 1500);
      },
      onError: (error) => setProblem(error.message),
    });
    return () => abort.abort();
  }, [jobId]);

  const act = async (what) => {
    setBusy(true);
    try {
      if (what === "cancel") setJob(await postJSON(`/v1/jobs/${jobId}/cancel`));
      else {
        const again = await postJSON("/v1/jobs", {
          kind: job.kind,
          payload: job.payload,
          priority: job.priority,
          source: job.source,
          max_attempts: job.max_attempts,
        });
        location.hash = `#/jobs/${again.job_id}`;
      }
    } catch (error) {
      setProblem(error.message);
    } finally {
      setBusy(false);
    }
  };

  if (problem && !job) return html`<p class="error" role="alert">${problem}</p>`;
  if (!job) return html`<p class="loading">Loading job…</p>`;
  const finished = TERMINAL.has(job.status);
  const answer = finished ? answerText(job) || streamed : streamed;
  const cost = extras && extras.cost;
  return html`<section aria-labelledby="job-title" class="job" data-job-id=${job.id} data-status=${job.status}>
    <p><a href="#/jobs">← all jobs</a></p>
    <h2 id="job-title">Job <span class="mono">${job.id}</span> <${StatusBadge} status=${job.status} /></h2>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    <div class="actions">
      ${!finished && html`<button type="button" onClick=${() => act("cancel")} disabled=${busy || job.cancel_requested}>${job.cancel_requested ? "Cancel requested" : "Cancel"}</button>`}
      ${finished && job.status !== "done" && html`<button type="button" onClick=${() => act("retry")} disabled=${busy}>Retry as a new job</button>`}
    </div>
    <dl class="facts wide">
      <div><dt>kind</dt><dd class="mono">${job.kind}</dd></div>
      <div><dt>source</dt><dd>${job.source || "—"}</dd></div>
      <div><dt>provider · model</dt><dd>${job.provider || "—"} · ${job.model || "—"}</dd></div>
      <div><dt>device</dt><dd class="mono">${job.device_id || "—"}</dd></div>
      <div><dt>worker</dt><dd class="mono">${job.worker_id || "—"}</dd></div>
      <div><dt>attempts</dt><dd>${job.attempts} of ${job.max_attempts}</dd></div>
      <div><dt>queued</dt><dd title=${job.queued_at}>${ago(job.queued_at, now)}</dd></div>
      <div><dt>finished</dt><dd title=${job.finished_at || ""}>${job.finished_at ? ago(job.finished_at, now) : "—"}</dd></div>
      <div><dt>cost</dt><dd>${cost ? `${usd(cost.cost_usd)} (${number(cost.tokens_in, 0)} in, ${number(cost.tokens_out, 0)} out)${cost.priced ? "" : " unpriced"}` : "—"}</dd></div>
      ${job.metrics && job.metrics.reason && html`<div><dt>routing</dt><dd>${[].concat(job.metrics.reason).join("; ")}</dd></div>`}
    </dl>
    ${job.error && html`<h3>Error</h3><pre class="error-text">${job.error}</pre>`}
    <h3>Answer ${!finished && html`<span class="muted small" aria-live="polite">streaming…</span>`}</h3>
    <pre class="answer" aria-live="off" data-testid="answer">${answer || (finished ? "(no text)" : "")}</pre>
    <div class="grid two">
      <div>
        <h3>Timeline</h3>
        <ol class="timeline">
          ${timeline.map(
            (t, i) => html`<li key=${i}><${StatusBadge} status=${t.type} /> ${t.count > 1 ? `×${t.count} ` : ""}<span class="muted small" title=${t.at}>${ago(t.at, now)}</span>
              ${t.type !== "progress" && t.data && Object.keys(t.data).length > 0 && html`<code class="small">${JSON.stringify(t.data).slice(0, 160)}</code>`}</li>`,
          )}
        </ol>
      </div>
      <div>
        <h3>Attempts</h3>
        ${extras && extras.attempts.length
          ? html`<table><thead><tr><th scope="col">#</th><th scope="col">worker</th><th scope="col">outcome</th><th scope="col">error</th></tr></thead><tbody>
              ${extras.attempts.map((a) => html`<tr key=${a.attempt}><td>${a.attempt}</td><td class="mono small">${a.worker_id || "—"}${a.device_id ? html`<br />${a.device_id}` : ""}</td><td>${a.outcome || (a.finished_at ? "—" : "running")}</td><td class="small">${a.error || ""}</td></tr>`)}
            </tbody></table>`
          : html`<p class="muted">Not claimed yet.</p>`}
      </div>
    </div>
    <details><summary>Request (payload)</summary><${Json} value=${job.payload} /></details>
    <details><summary>Result</summary><${Json} value=${job.result} /></details>
  </section>`;
}
