import type { RevisionTimelineDto } from "@nexus/contracts";

/** Seconds after the first step, `+0.000s`, `+12.345s`, `+3m04.5s`. */
export function offsetOf(ms: number): string {
  if (ms < 60_000) return `+${(ms / 1000).toFixed(3)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = ((ms % 60_000) / 1000).toFixed(1).padStart(4, "0");
  return `+${minutes}m${seconds}s`;
}

/**
 * One change as lines: a header (who, which layer, the trace id to look up in a tracing
 * backend), one line per step with its time, its offset from the write, where it happened and
 * what happened, then the parts a service could not give.
 */
export function renderTimeline(t: RevisionTimelineDto): string {
  const header = `${t.namespace} revision ${t.revision}: layer ${t.layer}, by ${t.author}${t.traceId ? `, trace ${t.traceId}` : ""}`;
  const start = t.steps.length ? Date.parse(t.steps[0]?.at as string) : 0;
  const where = (s: RevisionTimelineDto["steps"][number]) =>
    [s.service, s.environment].filter(Boolean).join(" / ");
  const whereWidth = Math.max(0, ...t.steps.map((s) => where(s).length));
  const kindWidth = Math.max(0, ...t.steps.map((s) => s.kind.length));
  const lines = t.steps.map((s) => {
    const time = s.at.replace("T", " ").replace("Z", "");
    return `  ${time}  ${offsetOf(Date.parse(s.at) - start).padStart(9)}  ${where(s).padEnd(whereWidth)}  ${s.kind.padEnd(kindWidth)}  ${s.text}`;
  });
  const missing = t.missing.map((m) => `  not shown: ${m.service} (${m.reason})`);
  return [header, ...(lines.length ? lines : ["  nothing recorded"]), ...missing].join("\n");
}
