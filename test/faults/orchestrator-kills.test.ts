import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HOOK_KEY,
  ORCHESTRATOR_SCHEMA,
  seedShop,
  startWorld,
  type World,
} from "../../services/orchestrator/test/integration/harness.js";
import {
  type CountingReceiver,
  killRepeatedly,
  killsFor,
  OperationHistory,
  restartFigure,
  sleep,
  startCountingReceiver,
  waitFor,
} from "../support/kill-history.js";
import { freePort, type ServiceProcess, startServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * The orchestrator SIGKILLed at random moments while runs of a pipeline (an http-hook to a local
 * receiver, a promotion to production, another http-hook) go one after another. Each start is
 * recorded (invoke, then ok / fail / unknown); after the last restart the history is checked
 * offline against the runs table, the receiver, the registry's production revisions and the
 * pipeline events: every acknowledged run finished, each hook step took effect once (copies under
 * the same delivery id are the documented at-least-once, counted), each promotion wrote one
 * revision, in the order the runs were started, and each step and run was announced once.
 */
const KILLS = killsFor(3);
const PIPELINE = "kill-chain";

interface RunRow {
  id: string;
  source_revision: number;
  status: string;
}

describe("orchestrator killed with SIGKILL during pipeline runs", () => {
  let world: World;
  let hook: CountingReceiver;
  let proc: ServiceProcess | undefined;
  let port = "";
  const env = () => ({
    PORT: port,
    DATABASE_URL: world.db.url,
    DATABASE_SCHEMA: ORCHESTRATOR_SCHEMA,
    NATS_PREFIX: world.registry.nats.prefix,
    AUTH_TOKEN_KEY: world.registry.tokenKey.toString("base64"),
    REGISTRY_URL: world.registryUrl,
    DRIFT_DETECTOR_URL: world.detectorUrl,
    ORCHESTRATOR_API_TOKEN: world.apiToken,
    ORCHESTRATOR_HOOK_KEY: HOOK_KEY,
    HOOK_ALLOWED_URLS: `${hook.url}/`,
    RUN_LEASE_SECONDS: "2",
    RUN_POLL_MS: "50",
  });
  // From dist (built once per run by test/support/build-once.ts): a restart takes a second.
  const start = () =>
    startServiceProcess("orchestrator", "services/orchestrator/src/main.ts", env(), { built: true });
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${proc!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${world.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(10_000),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id?: string } }));
  const runsOf = async (sourceRevision: number) =>
    (
      await world.db.pool.query<RunRow>(
        "SELECT id, source_revision, status FROM runs WHERE pipeline = $1 AND source_revision = $2",
        [PIPELINE, sourceRevision],
      )
    ).rows;

  beforeAll(async () => {
    // The receiver takes a moment: kills land between sending and recording too.
    [world, hook] = await Promise.all([startWorld(), startCountingReceiver(150)]);
    await seedShop(world);
    port = String(await freePort()); // the same across restarts, where the driver sends
    proc = await start();
    const created = await api("POST", "/v1/pipelines", {
      name: PIPELINE,
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host"],
      steps: [
        { type: "http-hook", name: "announce", url: `${hook.url}/announce` },
        { type: "promote" },
        { type: "http-hook", name: "promoted", url: `${hook.url}/promoted` },
      ],
    });
    expect(created.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await proc?.kill();
    await hook?.close();
    await world?.close();
  });

  it(
    `finishes every acknowledged run, each step's effect once and promotions in order, across ${KILLS} kills`,
    async () => {
      const history = new OperationHistory<{ release: number; sourceRevision: number }>();
      let driving = true;
      let releases = 0;
      let finished = 0;
      const started = Date.now();
      // One run after another: a release written to staging, a run started for it, its end awaited
      // in the database (the orchestrator may be dead meanwhile).
      const driver = (async () => {
        while (driving) {
          const release = ++releases;
          const put = await world.registryCall("PUT", "/v1/namespaces/shop/layers/staging", {
            db: { host: "staging-db" },
            replicas: 2,
            release,
          });
          const sourceRevision = put.body.revision as number;
          for (;;) {
            await history.record(
              "start-run",
              `release-${release}`,
              { release, sourceRevision },
              () => api("POST", `/v1/pipelines/${PIPELINE}/runs`, { sourceRevision }),
              (answer) => answer.body.id,
            );
            // A start whose answer was lost may have happened: then its run is the one to wait for.
            if ((await runsOf(sourceRevision)).length > 0) break;
            await sleep(200);
          }
          await waitFor(
            () => runsOf(sourceRevision),
            (rows) => rows.every((r) => r.status !== "running"),
            60_000,
            `runs of staging revision ${sourceRevision}`,
          );
          finished++;
        }
      })();
      const kills = await killRepeatedly({
        kills: KILLS,
        process: proc!,
        restart: start,
        // Each kill after one more run finished (so runs go on between kills, however slow the
        // machine), at a random moment of the next one.
        beforeKill: (k) =>
          waitFor(
            async () => finished,
            (n) => n > k,
            120_000,
            "a run between kills",
          ).then(),
        minMs: 0,
        maxMs: 1_200,
        onRestart: (p) => {
          proc = p;
        },
      });
      driving = false;
      await driver;

      // Offline: the recorded starts against what the orchestrator, the receiver and the registry hold.
      const runs = (
        await world.db.pool.query<RunRow>(
          "SELECT id, source_revision, status FROM runs WHERE pipeline = $1 ORDER BY created_at",
          [PIPELINE],
        )
      ).rows;
      const runIds = new Set(runs.map((r) => r.id));
      const lost = history.of("ok").filter((o) => !runIds.has(o.key));
      expect(lost).toEqual([]);
      expect(runs.filter((r) => r.status !== "succeeded")).toEqual([]);

      // Each hook step of each run took effect (a delivery id arrived), and no effect arrived that no
      // run step stands for; a copy under the same id is a re-send the receiver recognises.
      const copies = hook.copiesBy("x-nexus-delivery");
      const expected = runs.flatMap((r) => [`${r.id}:0`, `${r.id}:2`]);
      expect(expected.filter((id) => !copies.has(id))).toEqual([]);
      expect([...copies.keys()].filter((id) => !expected.includes(id))).toEqual([]);
      const resent = [...copies.values()].reduce((sum, c) => sum + c - 1, 0);

      // One promotion per run, each a new production revision, in the order the runs started.
      const revisions = (
        await world.registry.db.pool.query<{ revision: number; release: number | null }>(
          `SELECT revision, (content->>'release')::int AS release FROM revisions
          WHERE namespace = 'shop' AND layer = 'production' AND author = $1 ORDER BY revision`,
          [`pipeline:${PIPELINE}`],
        )
      ).rows;
      const promoted = revisions.map((r) => r.release);
      const releasesRun = [...new Set(runs.map((r) => r.source_revision))].length;
      expect(promoted).toHaveLength(releasesRun);
      expect(promoted).toEqual([...promoted].sort((a, b) => (a ?? 0) - (b ?? 0)));
      expect(new Set(promoted).size).toBe(promoted.length);

      // Every step and run announced once (a step started again after a kill is a new attempt).
      await waitFor(
        async () => world.events.filter((e) => e.type === "nexus.pipeline.succeeded").length,
        (n) => n >= runs.length,
        30_000,
        "pipeline.succeeded events",
      );
      for (const r of runs) {
        expect(world.eventsOf("nexus.pipeline.succeeded", r.id)).toHaveLength(1);
        const steps = world.eventsOf("nexus.pipeline.step-succeeded", r.id).map((e) => e.data.step.index);
        expect(steps.sort()).toEqual([0, 1, 2]);
      }
      const attempts = (
        await world.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.pipeline = $1 AND s.attempts > 1",
          [PIPELINE],
        )
      ).rows[0]!.n;
      expect(runs.length).toBeGreaterThan(KILLS);

      await recordFigure({
        fault: `orchestrator SIGKILLed ${KILLS}× during pipeline runs (http-hook, promote, http-hook)`,
        outcome: `0 acknowledged runs lost or unfinished, 0 steps doubled, ${promoted.length} promotions once each and in order`,
        figure: `${runs.length} runs in ${((Date.now() - started) / 1000).toFixed(0)} s (${history.count("unknown")} starts unknown); ${attempts} steps re-attempted, ${resent} hook calls re-sent under the same id; ${restartFigure(kills.restartsMs)}`,
      });
    },
    120_000 + KILLS * 60_000,
  ); // a kill and restart take up to ~30 s on a loaded 2-core machine
});
