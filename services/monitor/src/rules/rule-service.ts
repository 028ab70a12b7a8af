import { ConflictError, NotFoundError, type Pool, ValidationError } from "@nexus/kit";
import { defaultRules, findRuleSetProblem } from "./rule-fns.js";
import type { RuleStore, RuleVersion } from "./rule-store.js";
import type { AlertRule, AlertRuleVersionDto } from "./rule-types.js";

export interface SaveMeta {
  author: string;
  comment?: string | undefined;
  /** The version the caller read (If-Match); a newer one in between is a conflict. */
  expectedVersion?: number | undefined;
}

const toDto = (v: RuleVersion | null): AlertRuleVersionDto =>
  v
    ? { ...v, createdAt: v.createdAt.toISOString() }
    : { version: 0, rules: defaultRules(), author: "built-in", comment: "defaults", createdAt: null };

/** The rule set as numbered versions of the whole set; the newest is in force. */
export function createRuleService(deps: { pool: Pool; store: RuleStore; cacheMs?: number }) {
  const { pool, store } = deps;
  const cacheMs = deps.cacheMs ?? 1_000;
  let cached: { at: number; version: RuleVersion | null } | null = null;

  async function current(): Promise<RuleVersion | null> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.version;
    const latest = await store.latestVersionNumber(pool);
    const version =
      cached && (cached.version?.version ?? 0) === latest
        ? cached.version
        : latest === 0
          ? null
          : await store.latest(pool);
    cached = { at: Date.now(), version };
    return version;
  }

  return {
    /** The rules the evaluator applies now. */
    async rulesInForce(): Promise<AlertRule[]> {
      return (await current())?.rules ?? defaultRules();
    },
    async current(): Promise<AlertRuleVersionDto> {
      cached = null;
      return toDto(await current());
    },
    /** Check a rule set without saving it (the CLI's `--dry-run`). */
    validate(rules: readonly AlertRule[]): void {
      const problem = findRuleSetProblem(rules);
      if (problem) throw new ValidationError("invalid_rules", problem.message, { field: problem.field });
    },
    async save(rules: AlertRule[], meta: SaveMeta): Promise<AlertRuleVersionDto> {
      const problem = findRuleSetProblem(rules);
      if (problem) throw new ValidationError("invalid_rules", problem.message, { field: problem.field });
      const before = await store.latestVersionNumber(pool);
      if (meta.expectedVersion !== undefined && meta.expectedVersion !== before)
        throw new ConflictError(
          "version_conflict",
          `the alert rules are at version ${before}, not ${meta.expectedVersion}`,
          {
            field: "If-Match",
          },
        );
      const version = { version: before + 1, rules, author: meta.author, comment: meta.comment ?? "" };
      if (!(await store.insert(pool, version)))
        throw new ConflictError(
          "version_conflict",
          "someone saved the alert rules at the same time; read them again",
          {
            field: "If-Match",
          },
        );
      cached = null;
      return toDto(await store.get(pool, version.version));
    },
    async history(limit: number, before?: number): Promise<AlertRuleVersionDto[]> {
      return (await store.list(pool, limit, before)).map(toDto);
    },
    async version(n: number): Promise<AlertRuleVersionDto> {
      if (n === 0) return toDto(null);
      const v = await store.get(pool, n);
      if (!v)
        throw new NotFoundError("version_not_found", `alert rule version ${n} does not exist`, {
          field: "version",
        });
      return toDto(v);
    },
  };
}
export type RuleService = ReturnType<typeof createRuleService>;
