// htm bound to Preact, and small formatters every view uses.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);

export function ago(iso, now = Date.now()) {
  if (!iso) return "—";
  const seconds = (now - Date.parse(iso)) / 1000;
  // The page's clock ticks every few seconds: anything newer than it happened just now.
  if (seconds < 1) return "just now";
  return duration(seconds) + " ago";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function number(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function usd(value) {
  if (value === null || value === undefined) return "—";
  return "$" + Number(value).toFixed(value < 1 ? 4 : 2);
}

export function shortId(id) {
  return id ? id.slice(0, 8) : "—";
}

export function StatusBadge({ status }) {
  return html`<span class="badge status-${status}">${status}</span>`;
}
