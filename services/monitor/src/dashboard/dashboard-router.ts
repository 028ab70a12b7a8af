import { readFileSync } from "node:fs";
import { ApiErrorBody, EnvironmentName, NamespaceName, RevisionConvergenceDto } from "@nexus/contracts";
import { type App, UnauthorizedError } from "@nexus/kit";
import { z } from "zod";
import { AlertDto } from "../alerts/alert-router.js";
import { HealthSummaryDto } from "../health/health-router.js";
import { bearerOf } from "../http/request-meta.js";
import type { DashboardService } from "./dashboard-service.js";
import type { LiveHub } from "./live-hub.js";

const GridCellDto = z.object({
  namespace: z.string(),
  environment: z.string(),
  revision: z.number(),
  hash: z.string(),
  actor: z.string(),
  source: z.string(),
  changedAt: z.string(),
  // The drift-detector's convergence of the cell's newest revision, as the dashboard shows it.
  convergence: RevisionConvergenceDto.pick({
    revision: true,
    applied: true,
    rejected: true,
    runningNow: true,
    stillOlder: true,
    converged: true,
  }).nullable(),
  openFindings: z.number().nullable(),
});
const DashboardStateDto = z.object({
  user: z.string(),
  health: HealthSummaryDto,
  alerts: z.array(AlertDto),
  grid: z.array(GridCellDto),
  driftAvailable: z.boolean(),
  notifications: z
    .array(z.object({ title: z.string(), receiver: z.string(), status: z.string(), updatedAt: z.string() }))
    .nullable(),
  silences: z
    .array(
      z.object({
        matchers: z.array(z.object({ label: z.string(), op: z.string(), value: z.string() })),
        endsAt: z.string(),
        createdBy: z.string(),
        comment: z.string(),
      }),
    )
    .nullable(),
});

const PAGE = { public: true, reason: "the dashboard's static page and assets; data needs a token" } as const;
const ASSETS = new URL("../../public/", import.meta.url);

// No inline script or style: the page, its script and its style sheet are all this origin's.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/** The dashboard: a static page (loaded once), its state per user, and a live event stream. */
export function registerDashboardRoutes(app: App, deps: { dashboard: DashboardService; hub: LiveHub }): void {
  const asset = (name: string) => readFileSync(new URL(name, ASSETS));
  const files = {
    html: asset("dashboard.html"),
    js: asset("dashboard.js"),
    views: Object.fromEntries(
      ["common.js", "revisions.js", "pipelines.js", "compare.js", "timeline.js", "rollouts.js"].map((n) => [
        n,
        asset(n),
      ]),
    ),
    css: asset("dashboard.css"),
  };

  // Open streams would hold the server's close until the grace period ends: end them first (the
  // pages reconnect, to another instance behind a load balancer).
  app.addHook("preClose", (done) => {
    deps.hub.close();
    done();
  });

  app.get("/", { schema: { hide: true }, config: { access: PAGE } }, async (_request, reply) =>
    reply.redirect("/dashboard", 302),
  );
  app.get("/dashboard", { schema: { hide: true }, config: { access: PAGE } }, async (_request, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", PAGE_CSP)
      .header("cache-control", "no-cache")
      .send(files.html),
  );
  app.get(
    "/dashboard/app.js",
    { schema: { hide: true }, config: { access: PAGE } },
    async (_request, reply) =>
      reply
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", "no-cache")
        .send(files.js),
  );
  // The scripts beside app.js: common.js (what they all use, loaded first) and one per view; each
  // is read once at start like the page.
  for (const [name, body] of Object.entries(files.views))
    app.get(
      `/dashboard/${name}`,
      { schema: { hide: true }, config: { access: PAGE } },
      async (_request, reply) =>
        reply
          .header("content-type", "text/javascript; charset=utf-8")
          .header("cache-control", "no-cache")
          .send(body),
    );
  app.get(
    "/dashboard/app.css",
    { schema: { hide: true }, config: { access: PAGE } },
    async (_request, reply) =>
      reply
        .header("content-type", "text/css; charset=utf-8")
        .header("cache-control", "no-cache")
        .send(files.css),
  );

  app.get(
    "/v1/dashboard/state",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["dashboard"],
        summary:
          "What the dashboard shows, as the caller may see it: services, alerts, recent notifications and silences (from the notifier), and per namespace and environment the revision, who changed it when, convergence and open findings",
        response: { 200: DashboardStateDto, 401: ApiErrorBody },
      },
    },
    async (request) => {
      if (!request.principal) throw new UnauthorizedError("unauthenticated", "a token is required");
      return deps.dashboard.state(request.principal, bearerOf(request));
    },
  );

  app.get(
    "/v1/dashboard/cells/:ns/:env",
    {
      config: {
        access: {
          role: "viewer",
          hideExistence: true,
          scope: (request) => {
            const p = request.params as { ns?: string; env?: string };
            return { namespace: p.ns, environment: p.env };
          },
        },
      },
      schema: {
        tags: ["dashboard"],
        summary: "One namespace/environment of the grid: revision, who and when, convergence, open findings",
        params: z.object({ ns: NamespaceName, env: EnvironmentName }),
        response: { 200: GridCellDto, 400: ApiErrorBody, 401: ApiErrorBody, 404: ApiErrorBody },
      },
    },
    async (request) => {
      if (!request.principal) throw new UnauthorizedError("unauthenticated", "a token is required");
      return deps.dashboard.cell(request.principal, bearerOf(request), request.params.ns, request.params.env);
    },
  );

  app.get(
    "/v1/dashboard/events",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["dashboard"],
        summary:
          "Server-sent events: `head` (a namespace/environment moved to a new revision), `applied` (instances of a namespace/environment reported; read its cell again), `health` (services), `alerts` (firing and pending); only what the caller may view",
        response: { 401: ApiErrorBody },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (!principal) throw new UnauthorizedError("unauthenticated", "a token is required");
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      const remove = deps.hub.add(principal, res);
      request.raw.on("close", remove);
      // The first stream opens the feeds: "connected" once the server has them, so every change
      // after it reaches this stream.
      await deps.hub.ready();
      res.write(": connected\n\n");
    },
  );
}
