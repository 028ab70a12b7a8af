import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { readChangedEvents } from "../support/history-check.js";
import { OperationHistory, sleep, waitFor } from "../support/kill-history.js";
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from "../support/private-servers.js";
import { registryAuth } from "../support/registry-process.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * Redis (a redis-server of the test's own) and Postgres (a throwaway cluster the test makes with
 * initdb) frozen with SIGSTOP and killed with SIGKILL under a registry that keeps being written and
 * read. Nobody restarts the registry: it recovers by itself, `/readyz` names the broken dependency
 * while it is down, every acknowledged write is stored and announced once, in order, and no read
 * after an acknowledged write returns an older value.
 */
const NS = "outage";
const FREEZE_MS = process.env.FAULTS_LONG === "1" ? 20_000 : 3_000;

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, { status: string; error?: string }> };
}

/** A writer and a reader against the registry, every outcome recorded. */
function startWorkload(registry: () => ServiceProcess, token: string) {
  const writes = new OperationHistory<{ n: number }>();
  // Failed reads by what they got (status and the start of the body, or the error).
  const reads = { ok: 0, failed: 0, stale: [] as string[], why: new Map<string, number>() };
  const failed = (why: string) => {
    reads.failed++;
    reads.why.set(why, (reads.why.get(why) ?? 0) + 1);
  };
  let acked = 0; // the highest n acknowledged so far
  let running = true;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const writer = (async () => {
    for (let n = 1; running; n++) {
      const answer = await writes.record("put", `n-${n}`, { n }, () =>
        fetch(`${registry().url}/v1/namespaces/${NS}/layers/production`, {
          method: "PUT",
          headers,
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(10_000),
        }),
      );
      if (answer?.ok) acked = Math.max(acked, n);
      await sleep(answer?.ok ? 30 : 200);
    }
  })();
  const reader = (async () => {
    while (running) {
      const floor = acked; // acknowledged before this read began: the read must show it or later
      try {
        const res = await fetch(`${registry().url}/v1/namespaces/${NS}/environments/production/resolved`, {
          headers,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) {
          reads.ok++;
          const n = ((await res.json()) as { content: { n?: number } }).content.n ?? 0;
          if (n < floor) reads.stale.push(`read n=${n} after n=${floor} was acknowledged`);
        } else failed(`${res.status} ${((await res.text()) || "").slice(0, 120)}`);
      } catch (err) {
        failed(String((err as Error).message ?? err));
      }
      await sleep(30);
    }
  })();
  return {
    writes,
    reads,
    async stop() {
      running = false;
      await Promise.all([writer, reader]);
    },
  };
}

const readiness = async (svc: ServiceProcess): Promise<Readiness> => {
  const res = await fetch(`${svc.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Readiness["body"] };
};
const dependencyDown = (name: string) => (r: Readiness) => r.body.checks[name]?.status === "down";
const dependencyUp = (name: string) => (r: Readiness) => r.body.checks[name]?.status === "up";

/** A registry process (built) on `env`'s database and Redis, with the test's namespace created. */
async function startRegistryWithNamespace(env: Record<string, string>) {
  const auth = registryAuth();
  const registry = await startServiceProcess(
    "config-registry",
    "services/config-registry/src/main.ts",
    // The workload (a write and a read every ~30 ms) passes the default 6,000 per minute in a long
    // run's minutes; the limit is not what this test is about.
    { ...auth.env, DATABASE_SCHEMA: REGISTRY_SCHEMA, RATE_LIMIT_PER_MINUTE: "60000", ...env },
    { built: true },
  );
  const created = await fetch(`${registry.url}/v1/namespaces`, {
    method: "POST",
    headers: { ...auth.headers, "content-type": "application/json" },
    body: JSON.stringify({ name: NS }),
  });
  expect(created.status).toBe(201);
  return { registry, auth };
}

/**
 * The fault, under a running workload: `server` SIGSTOPped for FREEZE_MS and resumed, then
 * SIGKILLed and started again after FREEZE_MS. Returns the registry's readiness while each lasted
 * (it must name `dependency` down) and how long after the restart `backAfterRestart` held.
 */
async function freezeThenKill(
  server: PrivateServer,
  registry: () => ServiceProcess,
  dependency: string,
  checks: {
    /** The registry has recovered after SIGCONT. */
    resumed: (r: Readiness) => boolean;
    /** Waited for once the server is killed and named down, before it starts again. */
    whileKilled?: () => Promise<void>;
    /** The registry uses the restarted server again. */
    backAfterRestart: () => Promise<void>;
  },
): Promise<{ frozen: Readiness; killed: Readiness; backMs: number }> {
  const named = `${dependency} named down`;
  await sleep(1_000);

  await server.pause();
  const frozen = await waitFor(() => readiness(registry()), dependencyDown(dependency), 30_000, named);
  await sleep(FREEZE_MS);
  await server.resume();
  await waitFor(() => readiness(registry()), checks.resumed, 30_000, `${dependency}: ready after SIGCONT`);
  await sleep(1_000);

  await server.kill();
  const killed = await waitFor(() => readiness(registry()), dependencyDown(dependency), 30_000, named);
  await checks.whileKilled?.();
  await sleep(FREEZE_MS);
  await server.start();
  const restartedAt = Date.now();
  await checks.backAfterRestart();
  const backMs = Date.now() - restartedAt;
  await sleep(1_000);
  return { frozen, killed, backMs };
}

/** Every acknowledged write stored; each revision announced once, in order. */
async function checkStoredAndAnnounced(
  writes: OperationHistory<{ n: number }>,
  db: Pick<pg.Pool, "query">,
  nats: TestBus,
): Promise<{ revisions: number; events: number }> {
  await waitFor(
    async () =>
      (await db.query(`SELECT count(*)::int AS n FROM ${REGISTRY_SCHEMA}.outbox WHERE published_at IS NULL`))
        .rows[0].n,
    (n) => n === 0,
    60_000,
    "the outbox drained",
  );
  const stored = (
    await db.query<{ revision: number; n: number }>(
      `SELECT revision, (content->>'n')::int AS n FROM ${REGISTRY_SCHEMA}.revisions
        WHERE namespace = $1 AND layer = 'production' ORDER BY revision`,
      [NS],
    )
  ).rows;
  const values = new Set(stored.map((r) => r.n));
  expect(writes.of("ok").filter((o) => !values.has(o.detail.n))).toEqual([]);
  // Stored in the order written: the writer waits for each answer, so n only grows.
  const ns = stored.map((r) => r.n).filter((n) => n !== null);
  expect(ns).toEqual([...ns].sort((a, b) => a - b));
  const events = (await readChangedEvents(nats.nc, nats.streams.events, nats.prefix)).filter(
    (e) => e.namespace === NS && e.environment === "production",
  );
  const revisions = events.map((e) => e.revision);
  expect(revisions).toEqual([...new Set(revisions)].sort((a, b) => a - b));
  const head = stored.at(-1)?.revision;
  expect(revisions.at(-1)).toBe(head);
  return { revisions: stored.length, events: events.length };
}

describe("fault: Redis frozen and killed under a registry being written and read", () => {
  let redis: PrivateServer | undefined;
  let db: TestDatabase | undefined;
  let nats: TestBus | undefined;
  let registry: ServiceProcess | undefined;
  afterAll(async () => {
    await registry?.kill();
    await redis?.close();
    await Promise.allSettled([db?.drop(), nats?.cleanup()]);
  });

  it("serves on without Redis, names it in /readyz while it is down, and comes back to it by itself", async () => {
    [redis, db, nats] = await Promise.all([
      startPrivateRedis(),
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestBus(),
    ]);
    let auth: ReturnType<typeof registryAuth>;
    ({ registry, auth } = await startRegistryWithNamespace({
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "faults:",
    }));
    const work = startWorkload(() => registry!, auth.token);
    const { frozen, killed, backMs } = await freezeThenKill(redis, () => registry!, "redis", {
      resumed: dependencyUp("redis"),
      backAfterRestart: async () =>
        void (await waitFor(() => readiness(registry!), dependencyUp("redis"), 30_000, "redis up again")),
    });
    await work.stop();

    // A cache is not a dependency the registry stops for: degraded (200), naming it.
    for (const r of [frozen, killed])
      expect({ status: r.status, ready: r.body.status }).toEqual({ status: 200, ready: "degraded" });
    expect(work.reads.stale).toEqual([]);
    expect(Object.fromEntries(work.reads.why)).toEqual({});
    const { revisions, events } = await checkStoredAndAnnounced(work.writes, db.pool, nats);
    await recordFigure({
      fault: `Redis SIGSTOPped ${FREEZE_MS / 1000} s, then SIGKILLed and restarted, under a registry writer and reader`,
      outcome: `/readyz degraded naming redis while down; 0 acknowledged writes lost, 0 stale reads, 0 failed reads; ${events} events once and in order`,
      figure: `${work.writes.count("ok")} writes acknowledged (${work.writes.count("fail")} refused, ${work.writes.count("unknown")} unknown), ${revisions} revisions, ${work.reads.ok} reads; cache back ${(backMs / 1000).toFixed(1)} s after Redis`,
    });
  }, 180_000);
});

describe("fault: Postgres (a throwaway cluster) frozen and killed under a registry being written", () => {
  let postgres: PrivateServer | undefined;
  let nats: TestBus | undefined;
  let redis: TestRedis | undefined;
  let registry: ServiceProcess | undefined;
  let pool: pg.Pool | undefined;
  afterAll(async () => {
    await registry?.kill();
    await pool?.end();
    await postgres?.close();
    await Promise.allSettled([nats?.cleanup(), redis?.cleanup()]);
  });

  it("answers 503 naming postgres while it is down, recovers by itself, and loses no acknowledged write", async () => {
    [postgres, nats, redis] = await Promise.all([startPrivatePostgres(), createTestBus(), createTestRedis()]);
    let auth: ReturnType<typeof registryAuth>;
    ({ registry, auth } = await startRegistryWithNamespace({
      DATABASE_URL: postgres.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
    }));
    const work = startWorkload(() => registry!, auth.token);
    const ready = (r: Readiness) => r.status === 200;
    let refused: Response | undefined;
    let refusal: { error: { code: string; details?: { dependency?: string } } } | undefined;
    const { frozen, killed, backMs } = await freezeThenKill(postgres, () => registry!, "postgres", {
      resumed: ready,
      whileKilled: async () => {
        refused = await fetch(`${registry!.url}/v1/namespaces/${NS}/layers/production`, {
          method: "PUT",
          headers: { ...auth.headers, "content-type": "application/json" },
          body: JSON.stringify({ n: -1 }),
        });
        refusal = (await refused.json()) as typeof refusal;
      },
      backAfterRestart: async () => {
        const acknowledged = work.writes.count("ok");
        await waitFor(
          async () => work.writes.count("ok"),
          (n) => n > acknowledged,
          60_000,
          "a write after the restart",
        );
        await waitFor(() => readiness(registry!), ready, 30_000, "ready after the restart");
      },
    });
    await work.stop();

    for (const r of [frozen, killed]) {
      expect(r.status).toBe(503);
      expect(r.body.status).toBe("not_ready");
    }
    expect(refused?.status).toBe(503);
    expect(refusal?.error.code).toBe("postgres_unavailable");
    expect(refusal?.error.details?.dependency).toBe("postgres");
    expect(work.reads.stale).toEqual([]);
    pool = new pg.Pool({ connectionString: postgres.url });
    const { revisions, events } = await checkStoredAndAnnounced(work.writes, pool, nats);
    await recordFigure({
      fault: `Postgres (own cluster) SIGSTOPped ${FREEZE_MS / 1000} s, then SIGKILLed and restarted (crash recovery), under a registry writer`,
      outcome: `/readyz 503 naming postgres while down, writes 503 postgres_unavailable; 0 acknowledged writes lost, 0 stale reads; ${events} events once and in order`,
      figure: `${work.writes.count("ok")} writes acknowledged (${work.writes.count("fail")} refused, ${work.writes.count("unknown")} unknown), ${revisions} revisions; writes back ${(backMs / 1000).toFixed(1)} s after Postgres restarted`,
    });
  }, 240_000);
});
