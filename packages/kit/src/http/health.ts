import type { FastifyInstance } from "fastify";

const PROBE = { public: true, reason: "liveness/readiness probe" } as const;

export interface HealthCheck {
  name: string;
  /** A failing critical check makes the service not ready; a non-critical one only degraded. */
  critical: boolean;
  check: () => Promise<void>;
}

/**
 * The events stream exists (non-critical: the services make it again by themselves within
 * seconds, and writes still commit to the outbox meanwhile; `/readyz` says `degraded` and why).
 */
export function eventStreamCheck(bus: {
  eventStreamCreated(): Promise<string | null>;
  streams: { events: string };
}): HealthCheck {
  return {
    name: "jetstream",
    critical: false,
    check: async () => {
      if ((await bus.eventStreamCreated()) === null)
        throw new Error(`the events stream ${bus.streams.events} is missing; it is being created again`);
    },
  };
}

export interface CheckResult {
  status: "up" | "down";
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 1_000;

async function runCheck(check: HealthCheck): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: "up", latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      status: "down",
      latencyMs: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/livez`: the process answers. `/readyz`: every critical dependency answers (503 otherwise, and
 * always 503 while draining so load balancers stop sending traffic before we close).
 */
export function registerHealth(app: FastifyInstance, checks: HealthCheck[], isDraining: () => boolean): void {
  app.get("/livez", { schema: { hide: true }, config: { access: PROBE } }, async () => ({ status: "alive" }));

  app.get("/readyz", { schema: { hide: true }, config: { access: PROBE } }, async (_request, reply) => {
    const { status, checks: byName } = await checkReadiness(checks, isDraining());
    reply.status(status === "ready" || status === "degraded" ? 200 : 503);
    return { status, checks: byName };
  });
}

export interface Readiness {
  status: "ready" | "degraded" | "not_ready" | "draining";
  checks: Record<string, CheckResult>;
  /** The same results in check order, with whether each is critical (the service heartbeat). */
  dependencies: Array<CheckResult & { name: string; critical: boolean }>;
}

/** What `/readyz` answers: every check run at once, each bounded by its timeout. */
export async function checkReadiness(checks: readonly HealthCheck[], draining: boolean): Promise<Readiness> {
  const results = await Promise.all(checks.map(async (c) => [c, await runCheck(c)] as const));
  const criticalDown = results.some(([c, r]) => c.critical && r.status === "down");
  const anyDown = results.some(([, r]) => r.status === "down");
  const status = draining ? "draining" : criticalDown ? "not_ready" : anyDown ? "degraded" : "ready";
  return {
    status,
    checks: Object.fromEntries(results.map(([c, r]) => [c.name, r])),
    dependencies: results.map(([c, r]) => ({ name: c.name, critical: c.critical, ...r })),
  };
}
