import { INSTANCE_HEARTBEAT } from "@nexus/contracts";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  type Harness,
  startRegistry,
} from "../../services/config-registry/test/integration/harness.js";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  heartbeat,
  watchDriftEvents,
} from "../../services/drift-detector/test/integration/harness.js";
import {
  killRepeatedly,
  killsFor,
  OperationHistory,
  restartFigure,
  sleep,
  waitFor,
} from "../support/kill-history.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * The drift-detector SIGKILLed at random moments while changes arrive and instances report drift.
 * Each change (a registry write) and each report (a heartbeat JetStream acknowledged) is recorded;
 * after the last restart the history is checked offline: every acknowledged stale report became
 * exactly one finding, announced once; the detector's head of the environment never went back
 * (sampled throughout) and ends on the registry's last revision.
 */
const KILLS = killsFor(3);
const NS = "driftkills";

describe("drift-detector killed with SIGKILL during changes and drift reports", () => {
  let registry: Harness;
  let db: TestDatabase;
  let proc: ServiceProcess | undefined;
  const env = () => ({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: DETECTOR_SCHEMA,
    NATS_PREFIX: registry.nats.prefix,
    STALE_GRACE_SECONDS: "0",
    INVENTORY_FLUSH_MS: "200",
    INVENTORY_ACK_WAIT_MS: "2000",
    INSTANCE_GONE_AFTER_SECONDS: "3600",
    RECONCILE_INTERVAL_MS: "100",
    FINDING_QUIET_SECONDS: "0",
  });
  // From dist (built once per run by test/support/build-once.ts): a restart takes a second.
  const start = () =>
    startServiceProcess("drift-detector", "services/drift-detector/src/main.ts", env(), { built: true });
  const head = async () =>
    (
      await db.pool.query<{ revision: number }>(
        "SELECT revision FROM drift_detector.heads WHERE namespace = $1 AND environment = 'production'",
        [NS],
      )
    ).rows[0]?.revision ?? 0;

  beforeAll(async () => {
    [registry, db] = await Promise.all([
      startRegistry(),
      createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
    ]);
    expect((await call(registry, "POST", "/v1/namespaces", { name: NS })).status).toBe(201);
    proc = await start();
  }, 120_000);
  afterAll(async () => {
    await proc?.kill();
    await registry?.close();
    await db?.drop();
  });

  it(
    `raises each reported drift once and never moves a head back, across ${KILLS} kills`,
    async () => {
      const watch = await watchDriftEvents(registry.nats.bus);
      const history = new OperationHistory<{ round: number; revision?: number }>();
      let working = true;
      let rounds = 0;
      // Sampled heads: one going back is an out-of-order application.
      const regressions: string[] = [];
      const sampler = (async () => {
        let last = 0;
        while (working) {
          const now = await head();
          if (now < last) regressions.push(`head ${last} then ${now}`);
          last = now;
          await sleep(50);
        }
      })();
      // Each round: a change to production, then instances reporting the revision before it.
      const workload = (async () => {
        let before = (await call(registry, "GET", `/v1/namespaces/${NS}/environments/production/resolved`))
          .body;
        while (working) {
          const round = ++rounds;
          await history.record("change", `change-${round}`, { round }, async () => {
            const res = await call(registry, "PUT", `/v1/namespaces/${NS}/layers/production`, { round });
            return { status: res.status };
          });
          for (let i = 0; i < 5; i++) {
            const instanceId = `r${round}-i${i}`;
            await history.record("report", instanceId, { round, revision: before.revision }, async () => {
              await registry.nats.bus.publish(
                INSTANCE_HEARTBEAT,
                heartbeat({ namespace: NS, instanceId, revision: before.revision, hash: before.hash }),
              );
              return { status: 200 };
            });
          }
          before = (await call(registry, "GET", `/v1/namespaces/${NS}/environments/production/resolved`))
            .body;
          await sleep(100);
        }
      })();
      const findings = async () =>
        (
          await db.pool.query<{ id: string; instance: string; expected: number; status: string }>(
            `SELECT id, instance_ids[1] AS instance, expected_revision AS expected, status
             FROM drift_detector.findings WHERE kind = 'stale' AND namespace = $1`,
            [NS],
          )
        ).rows;
      const started = Date.now();
      const kills = await killRepeatedly({
        kills: KILLS,
        process: proc!,
        restart: start,
        // Each kill after the restarted detector raised something (it works, whatever the load).
        beforeKill: async () => {
          const seen = (await findings()).length;
          await waitFor(findings, (f) => f.length > seen, 60_000, "a finding between kills");
        },
        minMs: 0,
        maxMs: 1_000,
        onRestart: (p) => {
          proc = p;
        },
      });
      working = false;
      await workload;

      // Offline: the acknowledged reports against the findings and their announcements.
      const reported = history.of("ok", "report");
      const final = (await call(registry, "GET", `/v1/namespaces/${NS}/environments/production/resolved`))
        .body;
      await waitFor(head, (r) => r === final.revision, 60_000, "the detector's head on the last revision");
      await sampler;
      const raised = await waitFor(
        findings,
        (f) => reported.every((op) => f.some((x) => x.instance === op.key)),
        60_000,
        "a finding for every acknowledged stale report",
      );
      const perInstance = new Map<string, number>();
      for (const f of raised) perInstance.set(f.instance, (perInstance.get(f.instance) ?? 0) + 1);
      expect([...perInstance].filter(([, n]) => n > 1)).toEqual([]);
      // A finding expects at least the revision the instance was behind when it reported.
      const behind = new Map(reported.map((op) => [op.key, op.detail.revision ?? 0]));
      expect(raised.filter((f) => f.expected <= (behind.get(f.instance) ?? 0))).toEqual([]);
      const announced = await waitFor(
        async () => watch.of("nexus.drift.detected"),
        (e) => e.length >= raised.length,
        30_000,
        "drift.detected for every finding",
      );
      await sleep(1_000); // anything still to come would be a duplicate
      const ids = watch.of("nexus.drift.detected").map((e) => e.data.findingId as string);
      expect(ids).toHaveLength(raised.length);
      expect(new Set(ids)).toEqual(new Set(raised.map((f) => f.id)));
      expect(regressions).toEqual([]);
      await watch.stop();

      await recordFigure({
        fault: `drift-detector SIGKILLed ${KILLS}× during changes and drift reports`,
        outcome: `0 acknowledged reports without their finding, 0 findings raised or announced twice, 0 heads moved back`,
        figure: `${rounds} changes, ${reported.length} stale reports, ${announced.length} findings in ${((Date.now() - started) / 1000).toFixed(0)} s; ${restartFigure(kills.restartsMs)}`,
      });
    },
    120_000 + KILLS * 60_000,
  ); // a kill and restart take up to ~30 s on a loaded 2-core machine
});
