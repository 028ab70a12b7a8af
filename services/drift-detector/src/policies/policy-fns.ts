import type { PolicyViolation } from "@nexus/contracts";
import { matchesPattern, ValidationError } from "@nexus/kit";
import { documentFindingKey } from "../findings/finding-fns.js";
import type { DesiredFinding } from "../findings/finding-types.js";
import type { PolicyDto, PolicyRule } from "./policy-types.js";

type Segment = string | number;

/** `$.a.b[0].c` → ["a", "b", 0, "c"]. */
export function parsePath(path: string): Segment[] {
  const body = path.replace(/^\$\.?/, "");
  const out: Segment[] = [];
  for (const part of body.split(".")) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m)
      throw new ValidationError("invalid_path", `"${path}" is not a dotted JSON path`, { field: "path" });
    out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

const MISSING = Symbol("missing");

export function valueAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of parsePath(path)) {
    if (cur === null || typeof cur !== "object") return MISSING;
    const key = typeof seg === "number" && Array.isArray(cur) ? seg : String(seg);
    if (!Object.hasOwn(cur as object, key)) return MISSING;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/** Structural equality of JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as never)[k], (b as never)[k]))
  );
}

const show = (v: unknown) => JSON.stringify(v);

/**
 * Why a value breaks a rule, or null when it passes. A missing key breaks `required`, `equals`,
 * `regex`, `min` and `max`, and passes `not-equals` and `forbidden`. Messages say what the rule
 * wants and never quote the document's value (it may be a secret).
 */
export function checkRule(rule: PolicyRule, doc: unknown): string | null {
  const v = valueAt(doc, rule.path);
  const missing = v === MISSING;
  switch (rule.op) {
    case "required":
      return missing ? `${rule.path} is required` : null;
    case "equals":
      return missing
        ? `${rule.path} must equal ${show(rule.value)} but is missing`
        : jsonEqual(v, rule.value)
          ? null
          : `${rule.path} must equal ${show(rule.value)}`;
    case "not-equals":
      return !missing && jsonEqual(v, rule.value) ? `${rule.path} must not be ${show(rule.value)}` : null;
    case "forbidden":
      return !missing && rule.values.some((f) => jsonEqual(v, f))
        ? `${rule.path} must not be any of ${show(rule.values)}`
        : null;
    case "regex": {
      if (missing) return `${rule.path} must match /${rule.pattern}/ but is missing`;
      if (typeof v !== "string") return `${rule.path} must be a string matching /${rule.pattern}/`;
      return new RegExp(rule.pattern).test(v) ? null : `${rule.path} must match /${rule.pattern}/`;
    }
    case "min":
    case "max": {
      const word = rule.op === "min" ? "at least" : "at most";
      if (missing) return `${rule.path} must be a number ${word} ${rule.value} but is missing`;
      if (typeof v !== "number") return `${rule.path} must be a number ${word} ${rule.value}`;
      const ok = rule.op === "min" ? v >= rule.value : v <= rule.value;
      return ok ? null : `${rule.path} must be ${word} ${rule.value}`;
    }
  }
}

/** Refuse rules that can never be evaluated (bad path, a regex that does not compile). */
export function assertRulesValid(rules: readonly PolicyRule[]): void {
  rules.forEach((rule, i) => {
    try {
      parsePath(rule.path);
    } catch {
      throw new ValidationError("invalid_path", `rule ${i}: "${rule.path}" is not a JSON path`, {
        field: `rules.${i}.path`,
      });
    }
    if (rule.op === "regex") {
      try {
        new RegExp(rule.pattern);
      } catch (err) {
        throw new ValidationError("invalid_regex", `rule ${i}: ${(err as Error).message}`, {
          field: `rules.${i}.pattern`,
        });
      }
    }
  });
}

export const policyApplies = (
  p: Pick<PolicyDto, "environment" | "namespacePattern" | "enabled">,
  ns: string,
  env: string,
) => p.enabled && p.environment === env && matchesPattern(p.namespacePattern, ns);

export function evaluatePolicies(
  policies: readonly PolicyDto[],
  namespace: string,
  environment: string,
  doc: unknown,
): { evaluated: number; violations: PolicyViolation[] } {
  const applicable = policies.filter((p) => policyApplies(p, namespace, environment));
  const violations: PolicyViolation[] = [];
  for (const p of applicable) {
    for (const rule of p.rules) {
      const message = checkRule(rule, doc);
      if (message) {
        violations.push({
          policyId: p.id,
          policyName: p.name,
          path: rule.path,
          rule: rule.op,
          message: message.slice(0, 500),
          severity: p.severity,
        });
      }
    }
  }
  return { evaluated: applicable.length, violations };
}

/**
 * Of the targets these changes name, those whose evaluation could change something: a policy
 * applies to them, or they have an open policy finding (`open`, keys `${namespace}\u0000${environment}`;
 * a policy since deleted or narrowed leaves one, which the next change resolves). Each once, with
 * the id of its last change, in the order the targets first appear.
 */
export function targetsToEvaluate(
  changes: readonly { id: string; data: { namespace: string; environment: string } }[],
  enabled: readonly PolicyDto[],
  open: ReadonlySet<string>,
): { namespace: string; environment: string; eventId: string }[] {
  const last = new Map<string, { namespace: string; environment: string; eventId: string }>();
  for (const c of changes) {
    const { namespace, environment } = c.data;
    last.set(`${namespace}\u0000${environment}`, { namespace, environment, eventId: c.id });
  }
  return [...last.entries()]
    .filter(([key, t]) => open.has(key) || enabled.some((p) => policyApplies(p, t.namespace, t.environment)))
    .map(([, t]) => t);
}

const RANK = { info: 0, warning: 1, critical: 2 } as const;

/** The policy finding a document should have: none when it passes. */
export function desiredPolicyFinding(
  target: { namespace: string; environment: string; revision: number; hash: string },
  violations: readonly PolicyViolation[],
): DesiredFinding | null {
  if (violations.length === 0) return null;
  const severity = violations.reduce(
    (s, v) => (RANK[v.severity] > RANK[s] ? v.severity : s),
    "info" as const as PolicyViolation["severity"],
  );
  const list = violations.map((v) => v.message).join("; ");
  return {
    key: documentFindingKey("policy", target.namespace, target.environment),
    kind: "policy",
    namespace: target.namespace,
    environment: target.environment,
    service: null,
    instanceIds: [],
    expected: { revision: null, hash: null },
    actual: { revision: target.revision, hash: target.hash },
    severity,
    summary:
      `${target.namespace}/${target.environment} revision ${target.revision} breaks ${violations.length} policy rule${
        violations.length === 1 ? "" : "s"
      }: ${list}`.slice(0, 1000),
    details: { violations: [...violations] },
  };
}
