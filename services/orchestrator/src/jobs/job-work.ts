import type { JobFinding } from "@nexus/contracts";
import type { HttpJsonClient } from "../clients/http-json.js";
import type { RegistryClient } from "../clients/registry-client.js";
import { schemaProblems } from "../steps/validate-step.js";
import { complianceFindings, MAX_FINDINGS, scanSummary } from "./job-fns.js";
import type { JobDefinition } from "./job-types.js";

export interface JobOutcome {
  ok: boolean;
  summary: string;
  findings: JobFinding[];
}

type Of<K extends JobDefinition["kind"]> = Extract<JobDefinition, { kind: K }>;

const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * A compliance scan: every environment of the chosen namespaces (all the token may list when none
 * are named), its resolved document as served (secrets redacted) against the namespace's JSON
 * Schema and, with `policies`, the drift-detector's policies of that environment. A document that
 * cannot be read is a finding too: the scan says what it could not check.
 */
export function createComplianceScan(deps: { registry: RegistryClient }) {
  const { registry } = deps;
  return async (job: Of<"compliance-scan">): Promise<JobOutcome> => {
    const all = await registry.namespaces();
    const wanted = job.namespaces ? new Set(job.namespaces) : null;
    const chosen = wanted ? all.filter((n) => wanted.has(n.name)) : all;
    const findings: JobFinding[] = [];
    for (const name of wanted ?? [])
      if (!all.some((n) => n.name === name))
        findings.push({
          namespace: name,
          environment: null,
          kind: "unreadable",
          path: null,
          message: "no such namespace, or the orchestrator's token may not read it",
        });
    let environments = 0;
    for (const ns of chosen) {
      const schema = await registry.schema(ns.name);
      for (const environment of ns.environments) {
        environments += 1;
        try {
          const doc = await registry.resolved(ns.name, environment);
          const problems = schema ? schemaProblems(schema, doc.content) : [];
          const violations = job.policies
            ? (await registry.checkPolicies(ns.name, environment, doc.content)).violations
            : [];
          findings.push(...complianceFindings(ns.name, environment, problems, violations));
        } catch (err) {
          findings.push({
            namespace: ns.name,
            environment,
            kind: "unreadable",
            path: null,
            message: why(err),
          });
        }
      }
    }
    const { ok, summary } = scanSummary({ namespaces: chosen.length, environments }, findings);
    return { ok, summary, findings: findings.slice(0, MAX_FINDINGS) };
  };
}

interface BackupView {
  id: string;
  status: string;
  verification: "pending" | "running" | "verified" | "failed";
  verifiedAt: string | null;
  verificationError: string | null;
  finishedAt: string | null;
}

/**
 * A backup drill: the backup service restores its newest completed backup into a scratch schema and
 * compares every table (`POST /v1/backups/{id}/verify`); the drill waits for that verification's
 * outcome. Needs the backup service (BACKUP_URL) and an admin token there.
 */
export function createBackupDrill(deps: {
  backup: HttpJsonClient | undefined;
  pollMs: number;
  sleep?: (ms: number) => Promise<void>;
}) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const fail = (message: string): JobOutcome => ({
    ok: false,
    summary: message,
    findings: [{ namespace: null, environment: null, kind: "backup", path: null, message }],
  });
  return async (job: Of<"backup-drill">): Promise<JobOutcome> => {
    const backup = deps.backup;
    if (!backup) return fail("no backup service to drill: set BACKUP_URL");
    const list = await backup.get<{ items: BackupView[] }>("/v1/backups?limit=50");
    const newest = list?.items.find((b) => b.status === "completed");
    if (!newest) return fail("the backup service has no completed backup to restore");
    const before = newest.verifiedAt;
    await backup.post<BackupView>(`/v1/backups/${encodeURIComponent(newest.id)}/verify`);
    const deadline = Date.now() + job.timeoutSeconds * 1_000;
    for (;;) {
      await sleep(deps.pollMs);
      const now = await backup.get<BackupView>(`/v1/backups/${encodeURIComponent(newest.id)}`);
      if (now && now.verification === "verified" && now.verifiedAt !== before)
        return {
          ok: true,
          summary: `backup ${newest.id} restored into a scratch schema and matched (verified at ${now.verifiedAt})`,
          findings: [],
        };
      if (now?.verification === "failed")
        return fail(
          `backup ${newest.id} did not restore cleanly: ${now.verificationError ?? "no reason given"}`,
        );
      if (Date.now() > deadline)
        return fail(`backup ${newest.id} was not verified within ${job.timeoutSeconds} s`);
    }
  };
}
