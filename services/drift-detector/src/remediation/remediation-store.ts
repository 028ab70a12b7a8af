import type { Queryable } from "@nexus/kit";

export type RemediationMode = "off" | "report" | "remediate";
export const DEFAULT_MODE: RemediationMode = "report";

export interface RemediationRecord {
  id: string;
  findingId: string;
  namespace: string;
  environment: string;
  action: "resync" | "reimport";
  service: string | null;
  instanceId: string | null;
  targetRevision: number | null;
  /** reimport: the Git source and branch (null: every branch) re-imported. */
  gitSource?: string | null;
  branch?: string | null;
  attempt: number;
  requestId: string;
  requestedAt: Date;
}

export function createRemediationStore() {
  return {
    async modeOf(db: Queryable, namespace: string, environment: string): Promise<RemediationMode> {
      const res = await db.query(
        "SELECT mode FROM remediation_modes WHERE namespace = $1 AND environment = $2",
        [namespace, environment],
      );
      return res.rows[0]?.mode ?? DEFAULT_MODE;
    },
    /** Every mode that is not the default, keyed `namespace/environment`. */
    async allModes(db: Queryable): Promise<Map<string, RemediationMode>> {
      const res = await db.query("SELECT namespace, environment, mode FROM remediation_modes");
      return new Map(res.rows.map((r) => [`${r.namespace}/${r.environment}`, r.mode]));
    },
    async setMode(
      db: Queryable,
      namespace: string,
      environment: string,
      mode: RemediationMode,
      actor: string,
    ) {
      await db.query(
        `INSERT INTO remediation_modes (namespace, environment, mode, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace, environment) DO UPDATE SET mode = $3, updated_by = $4, updated_at = now()`,
        [namespace, environment, mode, actor],
      );
    },
    async insert(db: Queryable, r: RemediationRecord): Promise<void> {
      await db.query(
        `INSERT INTO remediations (id, finding_id, namespace, environment, service, instance_id, action,
           target_revision, attempt, request_id, requested_at, git_source, branch)
         VALUES ($1, $2, $3, $4, $5, $6, $11, $7, $8, $9, $10, $12, $13)`,
        [
          r.id,
          r.findingId,
          r.namespace,
          r.environment,
          r.service,
          r.instanceId,
          r.targetRevision,
          r.attempt,
          r.requestId,
          r.requestedAt,
          r.action,
          r.gitSource ?? null,
          r.branch ?? null,
        ],
      );
    },
    async list(db: Queryable, namespace: string, environment: string, limit: number) {
      const res = await db.query(
        `SELECT id, finding_id, action, service, instance_id, target_revision, git_source, branch, attempt,
           request_id, requested_at
         FROM remediations WHERE namespace = $1 AND environment = $2 ORDER BY requested_at DESC LIMIT $3`,
        [namespace, environment, limit],
      );
      return res.rows.map((r) => ({
        id: r.id as string,
        findingId: r.finding_id as string,
        action: r.action as "resync" | "reimport",
        service: r.service as string | null,
        instanceId: r.instance_id as string | null,
        targetRevision: r.target_revision as number | null,
        gitSource: r.git_source as string | null,
        branch: r.branch as string | null,
        attempt: r.attempt as number,
        requestId: r.request_id as string,
        requestedAt: (r.requested_at as Date).toISOString(),
      }));
    },
  };
}
export type RemediationModes = ReturnType<typeof createRemediationStore>;
export type RemediationStore = RemediationModes;
