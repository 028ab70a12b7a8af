import type { PolicyViolation } from "@nexus/contracts";
import {
  ConflictError,
  type Logger,
  NotFoundError,
  type Pool,
  processOnce,
  type Queryable,
  uuidv7,
  withTransaction,
} from "@nexus/kit";
import type pg from "pg";
import { documentFindingKey, planTransitions } from "../findings/finding-fns.js";
import type { FindingService } from "../findings/finding-service.js";
import type { FindingStore } from "../findings/finding-store.js";
import type { HeadStore } from "../heads/head-store.js";
import type { RegistryClient } from "../heads/registry-client.js";
import type { RemediationModes } from "../remediation/remediation-store.js";
import { assertRulesValid, desiredPolicyFinding, evaluatePolicies } from "./policy-fns.js";
import type { PolicyStore } from "./policy-store.js";
import type { PolicyDto, PolicyInput } from "./policy-types.js";

/** The idempotency key of the policies' part of a change (the name of the durable it once had). */
export const POLICY_DURABLE = "drift-policy";

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === "23505";

/**
 * Policies are owned here (not by the registry): CRUD, evaluation of a (namespace, environment)'s
 * resolved document into a policy finding, and the check behind `nexus.policy.cmd.check`.
 */
export function createPolicyService(deps: {
  pool: Pool;
  logger: Pick<Logger, "info" | "warn">;
  policies: PolicyStore;
  findings: Pick<FindingStore, "listActive">;
  findingService: FindingService;
  heads: Pick<HeadStore, "list">;
  registry: RegistryClient;
  modes: Pick<RemediationModes, "modeOf">;
  quietMs: () => number;
  wakeOutbox: () => void;
}) {
  const { pool, policies } = deps;

  /** Apply the policy finding for one target in `db` (a transaction). */
  async function settle(
    db: Queryable,
    target: { namespace: string; environment: string; revision: number; hash: string } | null,
    scope: { namespace: string; environment: string },
    violations: readonly PolicyViolation[],
  ) {
    const off = (await deps.modes.modeOf(db, scope.namespace, scope.environment)) === "off";
    const desired = target && !off ? desiredPolicyFinding(target, violations) : null;
    const active = await deps.findings.listActive(db, ["policy"], scope);
    const key = documentFindingKey("policy", scope.namespace, scope.environment);
    const plan = planTransitions(
      active.filter((f) => f.key === key),
      desired ? [desired] : [],
      { now: Date.now(), quietMs: deps.quietMs(), touchEveryMs: 0 },
    );
    const reason = off
      ? "drift detection is off for this namespace and environment"
      : target
        ? "the document now passes every policy"
        : "the namespace or environment no longer exists";
    return deps.findingService.apply(db, plan, () => reason, new Date());
  }

  /**
   * `enabled`: the enabled policies if the caller has them (the change consumer's cache, current
   * as of its batch statement); else they are read.
   */
  async function evaluateTarget(
    namespace: string,
    environment: string,
    consumer?: { name: string; eventId: string },
    enabled?: readonly PolicyDto[],
  ) {
    const doc = await deps.registry.resolved(namespace, environment);
    const all = enabled ?? (await policies.list(pool, environment));
    const { violations } = doc
      ? evaluatePolicies(all, namespace, environment, doc.content)
      : { violations: [] };
    const scope = { namespace, environment };
    const effect = (client: pg.PoolClient) => settle(client, doc, scope, violations);
    const result = consumer
      ? await processOnce(pool, consumer.name, consumer.eventId, effect)
      : { applied: true as const, result: await withTransaction(pool, effect) };
    if (result.applied && result.result.events > 0) deps.wakeOutbox();
    return violations;
  }

  return {
    list: (environment?: string) => policies.list(pool, environment),
    async get(id: string): Promise<PolicyDto> {
      const p = await policies.get(pool, id);
      if (!p) throw new NotFoundError("policy_not_found", `no policy ${id}`, { field: "id" });
      return p;
    },
    async create(input: PolicyInput, actor: string): Promise<PolicyDto> {
      assertRulesValid(input.rules);
      const created = await policies.insert(pool, uuidv7(), input, actor);
      if (!created) {
        throw new ConflictError(
          "policy_exists",
          `a policy named "${input.name}" exists in ${input.environment}`,
          {
            field: "name",
          },
        );
      }
      return created;
    },
    async update(id: string, input: PolicyInput, actor: string): Promise<PolicyDto> {
      assertRulesValid(input.rules);
      const updated = await policies.update(pool, id, input, actor).catch((err) => {
        if (isUniqueViolation(err)) {
          throw new ConflictError(
            "policy_exists",
            `a policy named "${input.name}" exists in ${input.environment}`,
            {
              field: "name",
            },
          );
        }
        throw err;
      });
      if (!updated) throw new NotFoundError("policy_not_found", `no policy ${id}`, { field: "id" });
      return updated;
    },
    async delete(id: string): Promise<void> {
      if (!(await policies.delete(pool, id))) {
        throw new NotFoundError("policy_not_found", `no policy ${id}`, { field: "id" });
      }
    },

    /** The violations a document would have; nothing is stored. */
    async check(namespace: string, environment: string, document: unknown) {
      const all = await policies.list(pool, environment);
      return evaluatePolicies(all, namespace, environment, document);
    },

    /** Evaluate the current resolved document of one target (config.changed; at most once per event). */
    evaluateTarget,

    /** Evaluate every (namespace, environment) the detector knows; one failure does not stop the scan. */
    async scan(): Promise<{ targets: number; failed: number; violating: number }> {
      const targets = await deps.heads.list(pool);
      let failed = 0;
      let violating = 0;
      for (const t of targets) {
        try {
          const v = await evaluateTarget(t.namespace, t.environment);
          if (v.length) violating++;
        } catch (err) {
          failed++;
          deps.logger.warn(
            { err, ...t },
            "policy scan could not evaluate a namespace; the next scan retries",
          );
        }
      }
      deps.logger.info({ targets: targets.length, failed, violating }, "policy scan finished");
      return { targets: targets.length, failed, violating };
    },
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
