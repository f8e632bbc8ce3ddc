// The API as the page uses it: the bearer token (kept for this browser session only, sent as a
// header, never in a URL), JSON calls, and server-sent events read with fetch, because
// EventSource cannot send an Authorization header.
import { createParser } from "eventsource-parser";

const TOKEN_KEY = "llm-mcp.api-token";

export class Unauthorized extends Error {}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const out = { Accept: "application/json", ...extra };
  const token = getToken();
  if (token) out.Authorization = `Bearer ${token}`;
  return out;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (_) {
    // not JSON: the status line says enough
  }
  if (response.status === 401) return new Unauthorized(message);
  return new Error(message);
}

export async function getJSON(path, { signal } = {}) {
  const response = await fetch(path, { headers: headers(), signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(body ?? {}),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Follows an SSE stream until `signal` aborts: onEvent({event, data, id}) per event, onState
// ("live" | "reconnecting" | "ended") as the connection changes. Reconnects with backoff and
// Last-Event-ID; stops on 401 (onUnauthorized) and when the server ends a stream that said
// it was final (isFinal(event) → true).
// A refusal other than 401 (a 404: no such job) is final too: onError(error).
export async function follow(path, { signal, onEvent, onState, onUnauthorized, onError, isFinal }) {
  let lastId = null;
  let delay = 500;
  let finished = false;
  while (!signal.aborted && !finished) {
    try {
      const extra = { Accept: "text/event-stream" };
      if (lastId !== null) extra["Last-Event-ID"] = lastId;
      const response = await fetch(path, { headers: headers(extra), signal, cache: "no-store" });
      if (response.status === 401) {
        onUnauthorized && onUnauthorized(await failure(response));
        return;
      }
      if (response.status >= 400 && response.status < 500) {
        onError && onError(await failure(response));
        return;
      }
      if (!response.ok) throw await failure(response);
      onState && onState("live");
      delay = 500;
      const parser = createParser({
        onEvent(event) {
          if (event.id) lastId = event.id;
          onEvent(event);
          if (isFinal && isFinal(event)) finished = true;
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Unauthorized) {
        onUnauthorized && onUnauthorized(error);
        return;
      }
    }
    if (finished || signal.aborted) break;
    onState && onState("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10000);
  }
  onState && onState("ended");
}
