import { createHash } from "node:crypto";
import type { ConfigChanged } from "@nexus/contracts";
import { type BatchHandler, type Bus, createLogger, type Pool, uuidv7 } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumeChanges } from "../../src/changes/change-consumer.js";
import { createChangeStore } from "../../src/changes/change-store.js";
import { createFindingService } from "../../src/findings/finding-service.js";
import { createFindingStore } from "../../src/findings/finding-store.js";
import { createHeadStore } from "../../src/heads/head-store.js";
import { createInventoryStore } from "../../src/inventory/inventory-store.js";
import { createPolicyCache } from "../../src/policies/policy-cache.js";
import { createPolicyStore } from "../../src/policies/policy-store.js";
import type { PolicyDto } from "../../src/policies/policy-types.js";
import { createReconcileStore } from "../../src/reconcile/reconcile-store.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import { createRemediationStore } from "../../src/remediation/remediation-store.js";
import { createGitLayerStore } from "../../src/source/git-layer-store.js";
import { createSourceDriftService } from "../../src/source/source-service.js";
import { DETECTOR_MIGRATIONS, DETECTOR_SCHEMA } from "./harness.js";

/**
 * What a batch of config.changed costs the detector in Postgres round trips: every statement its
 * consumer sends (pool.query and the statements of checked-out clients, BEGIN and COMMIT too) is
 * counted. On this 2-core machine a round trip costs more CPU than the SQL in it, so the count is
 * the figure that matters; it was 7 + 2 per change before the batch became one statement.
 */
describe("what the detector's hot paths cost in statements", () => {
  let db: TestDatabase;
  let handler: BatchHandler<"nexus.config.changed">;
  const statements: string[] = [];
  const evaluated: { namespace: string; environment: string; eventId: string; policies: string[] }[] = [];
  const policyStore = createPolicyStore();
  const heads = createHeadStore();

  /** The pool, with every statement it (or a client it lends) sends recorded in `statements`. */
  function counted(pool: Pool): Pool {
    const record = (q: unknown) =>
      statements.push(
        String((q as { text?: string })?.text ?? q)
          .replace(/\s+/g, " ")
          .trim()
          .slice(0, 60),
      );
    const wrapClient = <C extends object>(client: C): C =>
      new Proxy(client, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (prop === "query")
            return (...args: unknown[]) => {
              record(args[0]);
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    return new Proxy(pool, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "query")
          return (...args: unknown[]) => {
            record(args[0]);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        if (prop === "connect") return async () => wrapClient(await target.connect());
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  const hash = (s: string) => createHash("sha256").update(s).digest("hex");
  let clock = Date.parse("2026-12-07T09:00:00Z");
  function change(
    namespace: string,
    revision: number,
    opts: { environment?: string; hash?: string; at?: number; trigger?: ConfigChanged["trigger"] } = {},
  ) {
    const environment = opts.environment ?? "production";
    const data: ConfigChanged = {
      schemaVersion: 1,
      namespace,
      environment,
      revision,
      previousRevision: revision > 1 ? revision - 1 : null,
      hash: opts.hash ?? hash(`${namespace}/${environment}@${revision}`),
      previousHash: revision > 1 ? hash(`${namespace}/${environment}@${revision - 1}`) : null,
      layer: environment,
      changedPaths: ["/a"],
      trigger: opts.trigger ?? "write",
      actor: "test",
      source: "api",
    };
    clock += 1_000;
    return {
      event: {
        specversion: "1.0",
        id: uuidv7(),
        type: "nexus.config.changed",
        source: "test",
        time: new Date(opts.at ?? clock).toISOString(),
        data,
      },
      ctx: { subject: "", deliveryCount: 1, traceparent: undefined, msg: undefined },
    } as unknown as Parameters<BatchHandler<"nexus.config.changed">>[0][number];
  }
  /** Run one batch; the statements it sent. */
  async function batch(items: Parameters<BatchHandler<"nexus.config.changed">>[0]) {
    statements.length = 0;
    evaluated.length = 0;
    await handler(items);
    return [...statements];
  }
  const headOf = async (namespace: string, environment = "production") =>
    (
      await db.pool.query(
        `SELECT revision, hash, changed_at, learnt_from FROM heads WHERE namespace = $1 AND environment = $2`,
        [namespace, environment],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS });
    const pool = counted(db.pool);
    const logger = createLogger({ service: "test", level: "silent" });
    const findings = createFindingStore();
    const bus = {
      consumeBatches: async (_type: string, _opts: unknown, h: BatchHandler<"nexus.config.changed">) => {
        handler = h;
        return { durables: [], stop: async () => undefined };
      },
    } as unknown as Pick<Bus, "consumeBatches">;
    await consumeChanges({
      bus,
      pool,
      changes: createChangeStore(),
      policyCache: createPolicyCache({ pool, store: policyStore }),
      policies: {
        // Recorded only: what an evaluation costs is the registry's read and the finding's
        // transaction, paid only by targets that need it (changes.test.ts runs the real one).
        evaluateTarget: async (namespace, environment, consumer, enabled) => {
          evaluated.push({
            namespace,
            environment,
            eventId: consumer?.eventId ?? "",
            policies: (enabled ?? []).map((p: PolicyDto) => p.name),
          });
          return [];
        },
      },
      sources: createSourceDriftService({
        pool,
        logger,
        findings,
        findingService: createFindingService({ findings, bus: {} as Bus }),
        gitLayers: createGitLayerStore(),
        modes: createRemediationStore(),
        wakeOutbox: () => undefined,
      }),
    });
  });
  afterAll(async () => db?.drop());

  it("records N changes to several targets with one statement, and a redelivery with one more that changes nothing", async () => {
    // Warm the policy cache (the first batch of a process loads the policies once).
    await batch([change("warm", 1)]);

    const items = [
      change("a", 1),
      change("b", 1),
      change("a", 2),
      change("c", 1, { environment: "staging" }),
      change("b", 2),
      change("a", 3),
      change("d", 1),
      change("a", 4),
    ];
    const sent = await batch(items);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^WITH batch AS/);
    expect(evaluated).toEqual([]);
    expect((await headOf("a")).revision).toBe(4);
    expect((await headOf("b")).revision).toBe(2);
    expect((await headOf("c", "staging")).revision).toBe(1);
    expect((await headOf("d")).revision).toBe(1);
    const keys = await db.pool.query(
      "SELECT event_id::text FROM processed_events WHERE consumer = 'drift-heads' AND event_id = ANY($1::uuid[])",
      [items.map((i) => i.event.id)],
    );
    expect(keys.rowCount).toBe(items.length);
    // Every revision's hash and the previous one's, first seen at the earliest change naming it.
    const hashes = await db.pool.query(
      "SELECT revision, hash, first_seen_at FROM revision_hashes WHERE namespace = 'a' ORDER BY revision",
    );
    expect(hashes.rows.map((r) => r.revision)).toEqual([1, 2, 3, 4]);
    expect(hashes.rows[1].hash).toBe(hash("a/production@2"));
    expect(hashes.rows[1].first_seen_at.toISOString()).toBe(items[2]?.event.time);

    // Redelivered (the ack was lost): one statement; no head or hash moves.
    await db.pool.query("UPDATE heads SET revision = revision WHERE namespace = 'a'");
    const before = await headOf("a");
    expect(await batch(items)).toHaveLength(1);
    expect(await headOf("a")).toEqual(before);
  });

  it("applies a batch's changes to one head in stream order, as one change at a time would", async () => {
    // Same revision, hashes moving (variables/dependency), a late event, and a flap back: the batch
    // (target "x") and one batch per change (target "y") must end with the same head.
    const h = (s: string) => hash(s);
    const t0 = Date.parse("2026-12-07T10:00:00Z");
    const steps = [
      { revision: 5, hash: h("1"), at: t0 + 1_000 },
      { revision: 5, hash: h("2"), at: t0 + 3_000 },
      { revision: 5, hash: h("3"), at: t0 + 2_000 }, // late: loses to h2
      { revision: 5, hash: h("1"), at: t0 + 4_000 }, // back to h1, later: wins
      { revision: 4, hash: h("0"), at: t0 + 5_000 }, // an older revision never wins
      { revision: 5, hash: h("1"), at: t0 + 6_000 }, // same head again: changes nothing
    ];
    const of = (namespace: string) =>
      steps.map((s) => change(namespace, s.revision, { hash: s.hash, at: s.at, trigger: "variables" }));
    expect(await batch(of("x"))).toHaveLength(1);
    for (const item of of("y")) await batch([item]);
    const x = await headOf("x");
    expect(x).toEqual(await headOf("y"));
    expect(x).toMatchObject({ revision: 5, hash: h("1"), learnt_from: "event" });
    expect(x.changed_at.getTime()).toBe(t0 + 4_000);

    // The registry's word on a head is corrected by a later event for the same hash, as before.
    await heads.advance(db.pool, {
      namespace: "z",
      environment: "production",
      revision: 7,
      hash: h("7"),
      changedAt: new Date(t0 + 10_000),
      learntFrom: "registry",
    });
    await batch([change("z", 7, { hash: h("7"), at: t0 + 9_000 })]);
    expect(await headOf("z")).toMatchObject({ revision: 7, learnt_from: "event" });
    expect((await headOf("z")).changed_at.getTime()).toBe(t0 + 9_000);
  });

  it("sees a policy another instance wrote at the next batch, and evaluates only what it governs or has an open finding", async () => {
    // Another detector instance's API writes the policy: only the database says so.
    await policyStore.insert(
      db.pool,
      uuidv7(),
      {
        name: "tls",
        description: "",
        environment: "production",
        namespacePattern: "pay*",
        severity: "critical",
        rules: [{ op: "equals", path: "database.ssl", value: true }],
        enabled: true,
      },
      "someone",
    );
    const governed = change("payments", 1);
    const sent = await batch([
      change("other", 1),
      governed,
      change("payments", 1, { environment: "staging" }),
    ]);
    // The batch, then the policies once (their version moved), nothing else.
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatch(/policies_version/);
    expect(evaluated).toEqual([
      { namespace: "payments", environment: "production", eventId: governed.event.id, policies: ["tls"] },
    ]);

    // The policies are in memory now: the next batch is one statement again.
    expect(await batch([change("other", 2), change("payments", 2)])).toHaveLength(1);
    expect(evaluated.map((e) => e.namespace)).toEqual(["payments"]);

    // An open policy finding makes an ungoverned target worth evaluating (its policy went).
    await db.pool.query(
      `INSERT INTO findings (id, finding_key, kind, namespace, environment, severity, status, summary,
         first_seen_at, last_seen_at)
       VALUES ($1, 'policy:legacy/production', 'policy', 'legacy', 'production', 'warning', 'open',
         'left over', now(), now())`,
      [uuidv7()],
    );
    const legacy = change("legacy", 1);
    expect(await batch([change("other", 3), legacy])).toHaveLength(1);
    expect(evaluated).toEqual([
      // The environment's policies go along (none applies to "legacy": the finding resolves).
      { namespace: "legacy", environment: "production", eventId: legacy.event.id, policies: ["tls"] },
    ]);
  });

  it("writes an inventory flush (instances and their revision reports) with one statement", async () => {
    const at = Date.parse("2026-12-07T11:00:00Z");
    const pending = ["i-1", "i-2", "i-3"].map((instanceId, n) => ({
      namespace: "a",
      environment: "production",
      instanceId,
      service: "api",
      running: { revision: 4, hash: hash("a/production@4"), status: "live" as const, at: at + n },
      rejection: null,
      lastSeenAt: at + n,
      intervalSeconds: 10,
      reports: [{ revision: 4, status: "applied" as const, at: at + n }],
    }));
    statements.length = 0;
    await createInventoryStore().upsert(counted(db.pool), pending);
    expect(statements).toHaveLength(1);
    const rows = await db.pool.query(
      "SELECT count(*)::int AS n FROM revision_reports WHERE namespace = 'a' AND revision = 4",
    );
    expect(rows.rows[0].n).toBe(3);
    const live = await db.pool.query(
      "SELECT count(*)::int AS n FROM instances WHERE namespace = 'a' AND revision = 4 AND status = 'live'",
    );
    expect(live.rows[0].n).toBe(3);
  });

  it("an idle reconcile pass (nothing to judge, no namespace in remediate mode) reads four times and writes nothing", async () => {
    const findings = createFindingStore();
    const reconciler = createReconciler({
      pool: counted(db.pool),
      logger: createLogger({ service: "test", level: "silent" }),
      reconcile: createReconcileStore(),
      findings,
      findingService: createFindingService({ findings, bus: {} as Bus }),
      heads,
      inventory: createInventoryStore(),
      registry: { resolved: async () => null },
      remediations: createRemediationStore(),
      remediation: { run: async () => undefined } as never,
      config: {
        graceMs: { byEnvironment: {}, defaultMs: 3_600_000 },
        quietMs: 0,
        goneAfterMs: 3_600_000,
        deleteAfterMs: 3_600_000,
        remediation: { maxAttempts: 2, retryMs: 1_000 },
      },
      wakeOutbox: () => undefined,
    });
    await reconciler.pass(); // the first also does housekeeping and asks about unknown heads
    statements.length = 0;
    await reconciler.pass();
    // Unknown heads, the remediation modes, the candidates, the open instance findings.
    expect(statements).toHaveLength(4);
    expect(statements.some((q) => /^(BEGIN|COMMIT)/.test(q))).toBe(false);
  });
});
