/** The words of a notification: what happened, where, since when, what Nexus did, links. No I/O. */
import type { MessageAlert, NotificationMessage } from "./message-types.js";

export const SEVERITY_MARK: Record<string, string> = {
  critical: "🔴",
  error: "🟠",
  warning: "🟡",
  info: "🔵",
};

export function statusWord(a: Pick<MessageAlert, "status">): string {
  return a.status === "firing" ? "FIRING" : a.status === "resolved" ? "RESOLVED" : "NOTICE";
}

/** `payments-api in production, instance i-1` or null when the alert names no place. */
export function whereOf(labels: Record<string, string>): string | null {
  const parts: string[] = [];
  if (labels.namespace) parts.push(labels.namespace);
  if (labels.environment) parts.push(`in ${labels.environment}`);
  if (labels.instance) parts.push(`instance ${labels.instance}`);
  if (parts.length === 0 && labels.service) parts.push(`service ${labels.service}`);
  return parts.length ? parts.join(", ").replace(", in ", " in ") : null;
}

/** `2026-11-21 23:45 UTC` */
export function humanTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function sinceLine(a: MessageAlert): string {
  if (a.status === "resolved" && a.endsAt)
    return `from ${humanTime(a.startsAt)} until ${humanTime(a.endsAt)}`;
  return `since ${humanTime(a.startsAt)}`;
}

export function titleOf(m: NotificationMessage): string {
  const firing = m.alerts.filter((a) => a.status === "firing").length;
  const resolved = m.alerts.filter((a) => a.status === "resolved").length;
  const first = m.alerts[0];
  if (!first) return "Nexus notification";
  const status =
    firing > 0 ? `FIRING${m.alerts.length > 1 ? ` ${firing}` : ""}` : resolved > 0 ? "RESOLVED" : "NOTICE";
  const what = m.alerts.length === 1 ? first.summary : `${m.alerts.length} alerts: ${first.summary}`;
  return `[${status}] ${what}`;
}

/** One alert as plain text lines (also the e-mail body and the Slack fallback). */
export function alertLines(a: MessageAlert): string[] {
  const where = whereOf(a.labels);
  return [
    `${statusWord(a)} ${a.severity.toUpperCase()}: ${a.summary}`,
    ...(where ? [`Where: ${where}`] : []),
    `When: ${sinceLine(a)}`,
    ...(a.details ? [`What happened: ${a.details}`] : []),
    ...(a.actionTaken ? [`What Nexus did: ${a.actionTaken}`] : []),
    `Source: ${a.source} (fingerprint ${a.fingerprint})`,
    ...a.links.map((l) => `${l.title}: ${l.url}`),
  ];
}

export function plainText(m: NotificationMessage): string {
  return [titleOf(m), "", ...m.alerts.flatMap((a) => [...alertLines(a), ""])].join("\n").trimEnd();
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function html(m: NotificationMessage): string {
  const items = m.alerts.map((a) => {
    const where = whereOf(a.labels);
    const rows = [
      ["Severity", a.severity],
      ...(where ? [["Where", where]] : []),
      ["When", sinceLine(a)],
      ...(a.actionTaken ? [["What Nexus did", a.actionTaken]] : []),
      ["Source", a.source],
    ]
      .map(([k, v]) => `<tr><th align="left">${escapeHtml(k!)}</th><td>${escapeHtml(v!)}</td></tr>`)
      .join("");
    const links = a.links.map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.title)}</a>`).join(" · ");
    return `<h3>${escapeHtml(`${SEVERITY_MARK[a.severity] ?? ""} ${statusWord(a)}: ${a.summary}`)}</h3>${
      a.details ? `<p>${escapeHtml(a.details)}</p>` : ""
    }<table>${rows}</table>${links ? `<p>${links}</p>` : ""}`;
  });
  return `<!doctype html><html><body><h2>${escapeHtml(titleOf(m))}</h2>${items.join("<hr>")}</body></html>`;
}
