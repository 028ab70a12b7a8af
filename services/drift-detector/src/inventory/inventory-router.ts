import {
  ApiErrorBody,
  ConvergenceOverviewDto,
  EnvironmentName,
  InstancesDto,
  NamespaceName,
  RevisionConvergenceListDto,
  RevisionReportsDto,
} from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import { HEADS_DURABLE } from "../heads/head-changes.js";
import type { HeadStore } from "../heads/head-store.js";
import { mayView, targetScope } from "../http/access.js";
import type { InventoryReadStore } from "./inventory-read-store.js";
import { convergenceOf, lagOf } from "./inventory-view-fns.js";

const Params = z.object({ ns: NamespaceName, env: EnvironmentName });
const errors = { 400: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody };
const tags = ["instances"];

export function registerInventoryRoutes(
  app: App,
  deps: { pool: Pool; reads: InventoryReadStore; heads: Pick<HeadStore, "get"> },
): void {
  const { pool, reads, heads } = deps;

  app.get(
    "/v1/namespaces/:ns/environments/:env/instances",
    {
      config: { access: { role: "viewer", scope: targetScope } },
      schema: {
        tags,
        summary: "Instances of a namespace in one environment, with their revision and lag",
        params: Params,
        querystring: z.object({ includeGone: z.enum(["true", "false"]).default("false") }),
        response: { 200: InstancesDto, ...errors },
      },
    },
    async (request) => {
      const { ns, env } = request.params;
      const [head, rows] = await Promise.all([
        heads.get(pool, ns, env),
        reads.instances(pool, ns, env, request.query.includeGone === "true"),
      ]);
      const now = Date.now();
      return {
        namespace: ns,
        environment: env,
        head: head
          ? { revision: head.revision, hash: head.hash, changedAt: head.changedAt.toISOString() }
          : null,
        items: rows.map((r) => ({
          instanceId: r.instance_id,
          service: r.service,
          revision: r.revision,
          hash: r.hash,
          status: r.gone_at ? "gone" : (r.status ?? "unknown"),
          lastSeenAt: r.last_seen_at.toISOString(),
          firstSeenAt: r.first_seen_at.toISOString(),
          lag: lagOf({ revision: r.revision, hash: r.hash }, head, now),
          rejected:
            r.rejected_revision !== null && (r.revision === null || r.rejected_revision > r.revision)
              ? { revision: r.rejected_revision, reason: r.rejected_reason }
              : null,
        })),
      };
    },
  );

  app.get(
    "/v1/convergence",
    {
      // Any valid credential; rows are filtered below to the namespaces/environments it may view.
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary:
          "Convergence of the newest revision of every namespace/environment the caller may view, in one answer",
        response: {
          200: ConvergenceOverviewDto,
          ...errors,
        },
      },
    },
    async (request) => {
      const rows = await reads.latestConvergence(pool);
      return {
        items: rows
          .filter((r) => mayView(request, { namespace: r.namespace, environment: r.environment }))
          .map((r) => ({
            namespace: r.namespace,
            environment: r.environment,
            revision: r.revision,
            firstSeenAt: r.published_at.toISOString(),
            applied: r.applied,
            rejected: r.rejected,
            runningNow: r.running,
            stillOlder: r.older,
            ...convergenceOf(r as never),
          })),
      };
    },
  );

  app.get(
    "/v1/namespaces/:ns/environments/:env/convergence",
    {
      config: { access: { role: "viewer", scope: targetScope } },
      schema: {
        tags,
        summary:
          "Per revision: instances that applied or rejected it, still older, and how long convergence took",
        params: Params,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
        response: {
          200: RevisionConvergenceListDto,
          ...errors,
        },
      },
    },
    async (request) => {
      const rows = await reads.convergence(pool, request.params.ns, request.params.env, request.query.limit);
      return {
        items: rows.map((r) => ({
          revision: r.revision,
          firstSeenAt: r.published_at.toISOString(),
          applied: r.applied,
          rejected: r.rejected,
          runningNow: r.running,
          stillOlder: r.older,
          ...convergenceOf(r as never),
        })),
      };
    },
  );

  app.get(
    "/v1/namespaces/:ns/environments/:env/revisions/:revision/reports",
    {
      config: { access: { role: "viewer", scope: targetScope } },
      schema: {
        tags,
        summary: "One revision: when the detector learnt it, each instance's ack, and its findings",
        description: "What the monitor's timeline of a change (`nexus trace`) shows for this environment.",
        params: Params.extend({ revision: z.coerce.number().int().min(1).max(2_147_483_647) }),
        querystring: z.object({
          eventIds: z
            .string()
            .regex(/^[0-9a-f-]{36}(,[0-9a-f-]{36}){0,19}$/, "up to 20 event ids (UUIDs), comma-separated")
            .optional()
            .describe(
              "The revision's config.changed ids (the registry lists them): `learntAt` is when they were processed",
            ),
        }),
        response: { 200: RevisionReportsDto, ...errors },
      },
    },
    async (request) => {
      const { ns, env, revision } = request.params;
      const trace = await reads.revisionTrace(pool, ns, env, revision, {
        consumer: HEADS_DURABLE,
        eventIds: request.query.eventIds?.split(",") ?? [],
      });
      const iso = (d: Date | null) => (d ? d.toISOString() : null);
      return {
        namespace: ns,
        environment: env,
        revision,
        learntAt: iso(trace.learntAt),
        reports: trace.reports.map((r) => ({
          instanceId: r.instance_id,
          service: r.service ?? null,
          status: r.status,
          reportedAt: r.reported_at.toISOString(),
        })),
        findings: trace.findings.map((f) => ({
          id: f.id,
          kind: f.kind,
          severity: f.severity,
          status: f.status,
          summary: f.summary,
          firstSeenAt: f.first_seen_at.toISOString(),
          resolvedAt: iso(f.resolved_at),
        })),
      };
    },
  );
}
