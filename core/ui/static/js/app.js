// The dashboard's shell: sign-in when the API wants a token, the one dashboard stream, the
// views (by the address's #fragment, so Back and links work), keyboard shortcuts.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { follow, getJSON, getToken, setToken, Unauthorized } from "./api.js";
import { Benchmarks, Costs } from "./reports.js";
import { Fleet } from "./fleet.js";
import { html } from "./html.js";
import { JobPage } from "./job.js";
import { Jobs, JobTable, filterFrom, filterQuery } from "./jobs.js";
import { Queue, historyColumns } from "./queue.js";

const VIEWS = [
  ["#/", "Overview", "1"],
  ["#/jobs", "Jobs", "2"],
  ["#/benchmarks", "Benchmarks", "3"],
  ["#/costs", "Costs", "4"],
];

function parseRoute(hash) {
  const [path, query] = (hash || "#/").slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts[1]) return { view: "job", jobId: parts[1], params };
  return { view: parts[0] || "overview", params };
}

function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const changed = () => setHash(location.hash || "#/");
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return parseRoute(hash);
}

// A clock for "… ago" that ticks every few seconds (not per frame).
function useNow(ms = 5000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function SignIn({ refused, onToken }) {
  const submit = (event) => {
    event.preventDefault();
    onToken(new FormData(event.currentTarget).get("token"));
  };
  return html`<main id="main" class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">llm-mcp dashboard</h1>
      <p>This core wants its API token (API_TOKEN). It is kept for this browser tab's session only.</p>
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      ${refused && html`<p class="error" role="alert">That token was refused.</p>`}
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

function App() {
  const route = useRoute();
  const now = useNow();
  // "checking" → "ok" | "needed" | "refused"
  const [auth, setAuth] = useState("checking");
  const [frame, setFrame] = useState(null);
  const [link, setLink] = useState("connecting");
  const filter = route.view === "jobs" ? filterFrom(route.params) : { status: "", kind: "", source: "" };
  const query = filterQuery(filter);

  const unauthorized = () => {
    const had = !!getToken();
    setToken("");
    setAuth(had ? "refused" : "needed");
  };

  useEffect(() => {
    getJSON("/v1/dashboard").then(
      () => setAuth("ok"),
      (error) => (error instanceof Unauthorized ? unauthorized() : setAuth("ok")),
    );
  }, []);

  useEffect(() => {
    if (auth !== "ok") return undefined;
    const abort = new AbortController();
    follow("/v1/dashboard/stream" + (query ? `?${query}` : ""), {
      signal: abort.signal,
      onUnauthorized: unauthorized,
      onError: () => setLink("refused"),
      onState: setLink,
      onEvent(event) {
        if (event.event !== "frame") return;
        const data = JSON.parse(event.data);
        if (data.error) setLink("database unavailable");
        else setFrame(data);
      },
    });
    return () => abort.abort();
  }, [auth, query]);

  useEffect(() => {
    const keys = (event) => {
      if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
      const view = VIEWS.find((v) => v[2] === event.key);
      if (view) location.hash = view[0];
      if (event.key === "/") {
        location.hash = "#/jobs";
        setTimeout(() => document.querySelector("#filter-source")?.focus(), 0);
        event.preventDefault();
      }
    };
    addEventListener("keydown", keys);
    return () => removeEventListener("keydown", keys);
  }, []);

  const history = useMemo(
    () => historyColumns(frame ? frame.history : [], frame && frame.generated_at),
    [frame && frame.history, frame && frame.generated_at && frame.generated_at.slice(0, 16)],
  );

  if (auth === "needed" || auth === "refused") {
    return html`<${SignIn} refused=${auth === "refused"} onToken=${(token) => {
      setToken(token);
      setAuth("checking");
      getJSON("/v1/dashboard").then(() => setAuth("ok"), unauthorized);
    }} />`;
  }
  const current = route.view === "job" ? "#/jobs" : `#/${route.view === "overview" ? "" : route.view}`;
  let body = html`<p class="loading">Waiting for the first update…</p>`;
  if (route.view === "job") body = html`<${JobPage} jobId=${route.jobId} onUnauthorized=${unauthorized} now=${now} />`;
  else if (route.view === "benchmarks") body = html`<${Benchmarks} onUnauthorized=${unauthorized} now=${now} />`;
  else if (route.view === "costs") body = html`<${Costs} onUnauthorized=${unauthorized} />`;
  else if (frame && route.view === "jobs") body = html`<${Jobs} frame=${frame} filter=${filter} now=${now} />`;
  else if (frame) {
    body = html`<${Queue} frame=${frame} history=${history} />
      <${Fleet} frame=${frame} />
      <section aria-labelledby="newest-title"><h2 id="newest-title">Newest jobs <a class="small" href="#/jobs">all</a></h2>
        <${JobTable} jobs=${frame.jobs.slice(0, 10)} now=${now} compact=${true} /></section>`;
  }
  const skip = (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  };
  return html`
    <a class="skip" href="#/" onClick=${skip}>Skip to content</a>
    <header class="top">
      <h1>llm-mcp</h1>
      <nav aria-label="Views">
        ${VIEWS.map(([href, label, key]) => html`<a key=${href} href=${href} aria-current=${current === href ? "page" : undefined} aria-keyshortcuts=${key}>${label}</a>`)}
      </nav>
      <span class="link link-${link.split(" ")[0]}" role="status" aria-live="polite" data-link=${link}>${link}</span>
      ${getToken() && html`<button type="button" class="small" onClick=${() => { setToken(""); location.reload(); }}>Sign out</button>`}
    </header>
    <main id="main" tabindex="-1">${body}</main>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading…" placeholder: render() adds to what is there
render(html`<${App} />`, root);
