import { randomUUID } from "node:crypto";
import { ALERT_RAISED, ALERT_RESOLVED, type DriftFinding } from "@nexus/contracts";
import type { Consumption } from "@nexus/kit";
import { createTestBus, createTestDatabase, type TestBus, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertRuleSet } from "../../services/monitor/src/rules/rule-types.js";
import { MONITOR_MIGRATIONS, MONITOR_SCHEMA } from "../../services/monitor/test/integration/harness.js";
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
 * The monitor SIGKILLed at random moments while drift findings stream in (each old enough for the
 * `drift_finding_open` rule) and half of them resolve again a moment later. Each drift event is
 * recorded (invoke, then ok when JetStream acknowledged it); after the last restart the history is
 * checked offline against the monitor's alerts and its alert.raised / alert.resolved notices:
 * every acknowledged finding still open fires, every acknowledged resolution resolves, and no
 * alert is raised or resolved twice.
 */
const KILLS = killsFor(3);
const RULE = "old-drift";

const finding = (findingId: string): DriftFinding => ({
  schemaVersion: 1,
  findingId,
  kind: "stale",
  namespace: "monkills",
  environment: "production",
  service: "monkills-svc",
  instanceIds: [`i-${findingId.slice(0, 8)}`],
  expected: { revision: 3, hash: null },
  actual: { revision: 2, hash: null },
  severity: "warning",
  firstSeenAt: new Date(Date.now() - 30 * 60_000).toISOString(),
  lastSeenAt: new Date().toISOString(),
  summary: "1 instance of monkills still runs revision 2",
});

describe("monitor killed with SIGKILL during alert evaluation", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let proc: ServiceProcess | undefined;
  let watch: Consumption | undefined;
  const env = () => ({
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: MONITOR_SCHEMA,
    NATS_PREFIX: nats.prefix,
    EVALUATE_INTERVAL_MS: "100",
    EXPECTED_SERVICES: "monitor",
  });
  // From dist (built once per run by test/support/build-once.ts): a restart takes a second.
  const start = () => startServiceProcess("monitor", "services/monitor/src/main.ts", env(), { built: true });

  beforeAll(async () => {
    [db, nats] = await Promise.all([
      createTestDatabase({ schema: MONITOR_SCHEMA, migrationsDir: MONITOR_MIGRATIONS }),
      createTestBus({ source: "nexus/drift-detector" }),
    ]);
    await db.pool.query("INSERT INTO alert_rule_versions (version, rules, author) VALUES (1, $1, 'test')", [
      // As PUT /v1/alert-rules stores them (parsed, defaults filled in).
      JSON.stringify(
        AlertRuleSet.parse({
          rules: [{ name: RULE, kind: "drift_finding_open", olderThan: "10m", severity: "warning" }],
        }).rules,
      ),
    ]);
    proc = await start();
  }, 120_000);
  afterAll(async () => {
    await proc?.kill();
    await watch?.stop();
    await Promise.allSettled([db?.drop(), nats?.cleanup()]);
  });

  it(
    `raises and resolves each alert once, none lost, across ${KILLS} kills`,
    async () => {
      const notices: { type: string; fingerprint: string }[] = [];
      watch = await nats.bus.consume(
        [ALERT_RAISED, ALERT_RESOLVED],
        { durable: "kills-watch" },
        async (e) => {
          notices.push({ type: e.type, fingerprint: e.data.fingerprint });
        },
      );
      const history = new OperationHistory<Record<string, never>>();
      const publish = (kind: "detected" | "resolved", f: DriftFinding) =>
        history.record(kind, f.findingId, {}, async () => {
          if (kind === "detected") await nats.bus.publish("nexus.drift.detected", f);
          else
            await nats.bus.publish("nexus.drift.resolved", {
              ...f,
              resolvedAt: new Date().toISOString(),
              resolution: "the instance caught up",
            });
          return { status: 200 };
        });
      let working = true;
      const publisher = (async () => {
        for (let i = 0; working; i++) {
          const f = finding(randomUUID());
          await publish("detected", f);
          // Every other finding resolves a moment later (fired first, or not yet).
          if (i % 2 === 1) void sleep(300 + Math.random() * 1_500).then(() => publish("resolved", f));
          await sleep(80);
        }
      })();
      const alerts = async () =>
        (
          await db.pool.query<{ fingerprint: string; status: string }>(
            "SELECT fingerprint, status FROM monitor_alerts",
          )
        ).rows;
      const started = Date.now();
      const kills = await killRepeatedly({
        kills: KILLS,
        process: proc!,
        restart: start,
        // Each kill after the restarted monitor fired something (it works, whatever the load).
        beforeKill: async () => {
          const seen = notices.length;
          await waitFor(
            async () => notices.length,
            (n) => n > seen,
            60_000,
            "an alert notice between kills",
          );
        },
        minMs: 0,
        maxMs: 1_000,
        onRestart: (p) => {
          proc = p;
        },
      });
      working = false;
      await publisher;
      await sleep(2_000); // the last resolutions are published

      // Offline: the acknowledged drift events against the alerts and their notices.
      const fp = (findingId: string) => `monitor:${RULE}:${findingId}`;
      const resolvedIds = new Set(history.of("ok", "resolved").map((o) => o.key));
      const stillOpen = history.of("ok", "detected").filter((o) => !resolvedIds.has(o.key));
      // Waits on the mismatches themselves, so a failure names the findings that are wrong.
      const mismatches = (rows: { fingerprint: string; status: string }[]) => {
        const by = new Map(rows.map((r) => [r.fingerprint, r.status]));
        return [
          ...stillOpen
            .filter((o) => by.get(fp(o.key)) !== "firing")
            .map((o) => `open ${o.key}: ${by.get(fp(o.key)) ?? "no alert"}`),
          ...[...resolvedIds]
            .filter((id) => by.get(fp(id)) === "firing")
            .map((id) => `resolved ${id}: firing`),
        ];
      };
      // Where a wrong one stands in the monitor's own tables, to tell a consumer fault from an evaluator's.
      const place = async (wrong: string[]) => {
        const ids = wrong.map((w) => w.split(" ")[1]!.replace(/:$/, ""));
        const [open, closed] = await Promise.all(
          ["open_findings", "closed_findings"].map(
            async (t) =>
              (await db.pool.query(`SELECT finding_id FROM ${t} WHERE finding_id = ANY($1)`, [ids])).rows
                .length,
          ),
        );
        return wrong.length === 0
          ? wrong
          : [...wrong, `${open} of them in open_findings, ${closed} in closed_findings`];
      };
      await waitFor(
        async () => place(mismatches(await alerts())),
        (wrong) => wrong.length === 0,
        60_000,
        "every open finding firing and every resolved one not",
      );
      const final = await alerts();
      const raisedFor = (f: string) =>
        notices.filter((n) => n.type === ALERT_RAISED && n.fingerprint === f).length;
      await waitFor(
        async () => stillOpen.filter((o) => raisedFor(fp(o.key)) === 0).length,
        (n) => n === 0,
        30_000,
        "alert.raised for every open finding",
      );
      await sleep(1_000); // anything still to come would be a duplicate
      const count = new Map<string, number>();
      for (const n of notices)
        count.set(`${n.type} ${n.fingerprint}`, (count.get(`${n.type} ${n.fingerprint}`) ?? 0) + 1);
      expect([...count].filter(([, c]) => c > 1)).toEqual([]);
      // A resolved notice only for an alert raised before it.
      const resolvedNotices = notices.filter((n) => n.type === ALERT_RESOLVED);
      expect(resolvedNotices.filter((n) => raisedFor(n.fingerprint) === 0)).toEqual([]);

      const raised = notices.filter((n) => n.type === ALERT_RAISED).length;
      await recordFigure({
        fault: `monitor SIGKILLed ${KILLS}× during alert evaluation (drift findings raised and resolved)`,
        outcome: `0 acknowledged findings without their alert, 0 alerts raised or resolved twice (${final.length} alerts)`,
        figure: `${history.of("ok", "detected").length} findings, ${resolvedIds.size} resolutions, ${raised} raised / ${resolvedNotices.length} resolved notices in ${((Date.now() - started) / 1000).toFixed(0)} s; ${restartFigure(kills.restartsMs)}`,
      });
    },
    120_000 + KILLS * 60_000,
  ); // a kill and restart take up to ~30 s on a loaded 2-core machine
});
