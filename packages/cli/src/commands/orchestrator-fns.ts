/** Pure helpers of `nexus pipeline`, `nexus run` and `nexus approve`: where the orchestrator is, runs in words. */
import { usageError } from "../exit-codes.js";

/** The orchestrator's URL from --orchestrator-url, NEXUS_ORCHESTRATOR_URL or `orchestratorUrl` in the config file. */
export function resolveOrchestratorUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown> | null,
): string | null {
  const fromFile = typeof file?.orchestratorUrl === "string" ? file.orchestratorUrl : undefined;
  const [raw, where] = flag
    ? [flag, "--orchestrator-url"]
    : env.NEXUS_ORCHESTRATOR_URL
      ? [env.NEXUS_ORCHESTRATOR_URL, "NEXUS_ORCHESTRATOR_URL"]
      : fromFile
        ? [fromFile, "the config file's orchestratorUrl"]
        : [undefined, undefined];
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usageError(`${where} is not a URL`, "orchestrator-url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw usageError(`${where} must start with http:// or https://`, "orchestrator-url");
  if (url.username || url.password || url.search || url.hash)
    throw usageError(`${where} must not carry credentials, a query or a fragment`, "orchestrator-url");
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export interface RunView {
  id: string;
  pipeline: string;
  pipelineVersion: number;
  namespace: string;
  source: string;
  target: string;
  sourceRevision: number;
  status: string;
  startedBy: string;
  promotedRevision: number | null;
  failure: string | null;
  steps?: {
    index: number;
    name: string;
    type: string;
    status: string;
    attempts: number;
    summary: string | null;
    output?: string | null;
  }[];
  decisions?: { actor: string; decision: string; comment: string }[];
}

export const FINISHED = new Set(["succeeded", "failed", "rolled-back"]);

/** `promoting shop staging@12 → production` and the run's state in one line. */
export function runHeadline(run: RunView): string {
  const promoted = run.promotedRevision ? ` (${run.target} revision ${run.promotedRevision})` : "";
  return `run ${run.id} of ${run.pipeline} v${run.pipelineVersion}: ${run.namespace} ${run.source}@${run.sourceRevision} → ${run.target}, ${run.status}${promoted}`;
}

/**
 * One line per step: `✓ promote  copied staging revision 12 ...`; attempts shown when above 1. A
 * waiting step's output (an approval's preview of what the promotion will write) follows it, indented.
 */
export function stepLines(run: RunView): string[] {
  const mark: Record<string, string> = {
    succeeded: "✓",
    failed: "✗",
    waiting: "…",
    running: "▶",
    pending: "·",
  };
  return (run.steps ?? []).flatMap((s) => {
    const again = s.attempts > 1 ? ` (attempt ${s.attempts})` : "";
    const line = `  ${mark[s.status] ?? "?"} ${s.name}${again}${s.summary ? `  ${s.summary}` : ""}`;
    const shown = s.status === "waiting" && s.output ? s.output.split("\n").map((l) => `      ${l}`) : [];
    return [line, ...shown];
  });
}

/** What changed between two looks at a run, as lines to print while following it. */
export function progressLines(before: RunView | null, now: RunView): string[] {
  const lines: string[] = [];
  const old = new Map((before?.steps ?? []).map((s) => [s.index, s]));
  for (const s of now.steps ?? []) {
    const was = old.get(s.index);
    if (was && was.status === s.status && was.summary === s.summary) continue;
    if (s.status === "pending") continue;
    lines.push(`${s.name}: ${s.status}${s.summary ? ` — ${s.summary}` : ""}`);
  }
  if (before?.status !== now.status) lines.push(`run ${now.status}${now.failure ? `: ${now.failure}` : ""}`);
  return lines;
}
