/** Pipeline documents: YAML or JSON text (or parsed JSON) in, a checked definition out. No I/O. */
import { BadRequestError } from "@nexus/kit";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { PipelineDefinition, type StepDefinition } from "./pipeline-types.js";

/** A zod issue path as the field name the error body carries: `steps[2].percent`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(root)";
}

export function issuesOf(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message }));
}

/** YAML is a superset of JSON, so one parser reads both; a syntax error names its line. */
export function parsePipelineText(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw new BadRequestError(
      "invalid_pipeline",
      `the pipeline is not valid YAML or JSON${line ? ` (line ${line})` : ""}: ${first.message.split("\n")[0]}`,
      { field: "(body)", details: { line } },
    );
  }
  return doc.toJS({ maxAliasCount: 50 });
}

/** Check a pipeline document; every problem is listed, the first names the field. */
export function checkPipeline(input: unknown): PipelineDefinition {
  const raw = typeof input === "string" ? parsePipelineText(input) : input;
  const parsed = PipelineDefinition.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const first = issues[0]!;
    throw new BadRequestError("invalid_pipeline", `${first.field}: ${first.message}`, {
      field: first.field,
      details: { issues },
    });
  }
  return { ...parsed.data, steps: nameSteps(parsed.data.steps) };
}

/** Unnamed steps are named after their type, numbered from the second of a type on (`approve-2`). */
export function nameSteps(steps: readonly StepDefinition[]): StepDefinition[] {
  const used = new Set(steps.map((s) => s.name).filter(Boolean));
  const count = new Map<string, number>();
  return steps.map((s) => {
    if (s.name) return s;
    let n = (count.get(s.type) ?? 0) + 1;
    let name = n === 1 ? s.type : `${s.type}-${n}`;
    while (used.has(name)) name = `${s.type}-${++n}`;
    count.set(s.type, n);
    used.add(name);
    return { ...s, name };
  });
}

/**
 * `run` steps execute on the orchestrator's host, so only programs the operator listed
 * (`RUN_ALLOWED_COMMANDS`) may be named; a pipeline naming another is refused at save time.
 */
export function checkCommands(p: PipelineDefinition, allowed: readonly string[]): void {
  p.steps.forEach((s, i) => {
    if (s.type !== "run" || allowed.includes(s.command[0]!)) return;
    throw new BadRequestError(
      "command_not_allowed",
      allowed.length === 0
        ? "this orchestrator runs no commands (RUN_ALLOWED_COMMANDS is empty)"
        : `'${s.command[0]}' is not one of the commands this orchestrator runs: ${allowed.join(", ")}`,
      { field: `steps[${i}].command` },
    );
  });
}

/** `new URL` without the throw (URL.parse needs Node 20.18). */
export function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/**
 * An http-hook URL is allowed when it has the origin (scheme, host, port) of one of the operator's
 * URLs and its path starts with that URL's path: `https://ci.example.com/hooks/` allows
 * `https://ci.example.com/hooks/deploy`, not `https://ci.example.com.evil.test/` nor `/admin`.
 */
export function hookUrlAllowed(url: string, allowed: readonly string[]): boolean {
  const parsed = parseUrl(url);
  if (!parsed) return false;
  return allowed.some((entry) => {
    const base = parseUrl(entry);
    return base !== null && parsed.origin === base.origin && parsed.pathname.startsWith(base.pathname);
  });
}

/**
 * `http-hook` steps call out from inside the network, so only URLs under prefixes the operator
 * listed (`HOOK_ALLOWED_URLS`) may be named; another is refused at save time.
 */
export function checkHookUrls(p: PipelineDefinition, allowed: readonly string[]): void {
  p.steps.forEach((s, i) => {
    if (s.type !== "http-hook" || hookUrlAllowed(s.url, allowed)) return;
    throw new BadRequestError(
      "hook_url_not_allowed",
      allowed.length === 0
        ? "this orchestrator calls no hooks (HOOK_ALLOWED_URLS is empty)"
        : `${s.url} is not under a URL this orchestrator may call: ${allowed.join(", ")}`,
      { field: `steps[${i}].url` },
    );
  });
}

/** May a run of this pipeline start from this kind of event? */
export const triggeredBy = (p: PipelineDefinition, type: PipelineDefinition["triggers"][number]["type"]) =>
  p.triggers.some((t) => t.type === type);
