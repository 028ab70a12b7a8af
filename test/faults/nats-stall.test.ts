import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { streamNames } from "@nexus/kit";
import { natsServerBinary } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA } from "../../services/config-registry/test/integration/harness.js";
import { type DetectorProcess, startDetectorProcess } from "../support/detector-process.js";
import { type PrivateNatsSystem, startPrivateNatsSystem } from "../support/private-servers.js";
import { recordFigure } from "./figures.js";

/**
 * nats-server (a private one, never the machine's) frozen with SIGSTOP, then killed with SIGKILL
 * and started again on the same store, while a writer keeps writing through the registry and the
 * drift-detector consumes. Nothing is restarted by hand: every acknowledged write is stored and
 * announced once, the detector ends on the last revision, both services report ready again.
 */
const binary = natsServerBinary();
const STALL_MS = process.env.FAULTS_LONG === "1" ? 30_000 : 5_000;

describe.skipIf(!binary)("fault: nats-server stopped (SIGSTOP) and killed under load", () => {
  let sys: PrivateNatsSystem | undefined;
  let detector: DetectorProcess | undefined;
  afterAll(async () => {
    sys?.nats.resume();
    await detector?.kill();
    await sys?.close();
  });

  it("stores and announces every acknowledged write once and the consumer catches up, without a restart", async () => {
    sys = await startPrivateNatsSystem({ binary: binary!, prefix: "stall" });
    const { nats, db, registry, prefix, send, head: headOf } = sys;
    detector = await startDetectorProcess(sys.detectorEnv, { built: true });
    const head = () => headOf("stalled");
    expect((await send("POST", "/v1/namespaces", { name: "stalled" })).status).toBe(201);

    // The writer: one write after another, each outcome recorded.
    const outcomes: ("ok" | "fail" | "unknown")[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 1; writing; i++) {
        try {
          const res = await send("PUT", "/v1/namespaces/stalled/layers/production", { n: i });
          outcomes.push(res.status === 200 ? "ok" : "fail");
        } catch {
          outcomes.push("unknown");
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await new Promise((r) => setTimeout(r, 1_000));
    nats.pause();
    const pausedAt = outcomes.length;
    await new Promise((r) => setTimeout(r, STALL_MS));
    const duringPause = outcomes.slice(pausedAt).filter((o) => o === "ok").length;
    nats.resume();
    await new Promise((r) => setTimeout(r, 1_000));
    await nats.restart(); // SIGKILL and start on the same store
    const restartedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_500));
    writing = false;
    await writer;

    const layer = (await (await send("GET", "/v1/namespaces/stalled/layers/production")).json()) as {
      revision: number;
    };
    const acked = outcomes.filter((o) => o === "ok").length;
    // No write was lost or applied twice: the layer's revision counts the acknowledged writes
    // (writes with an unknown outcome may or may not have landed).
    const unknown = outcomes.filter((o) => o === "unknown").length;
    expect(layer.revision).toBeGreaterThanOrEqual(acked);
    expect(layer.revision).toBeLessThanOrEqual(acked + unknown);
    await expect.poll(head, { timeout: 60_000, interval: 200 }).toBe(layer.revision);
    const caughtUpMs = Date.now() - restartedAt;
    await expect
      .poll(
        async () =>
          (
            await db.pool.query(
              `SELECT count(*)::int AS n FROM ${REGISTRY_SCHEMA}.outbox WHERE published_at IS NULL`,
            )
          ).rows[0].n,
        { timeout: 30_000, interval: 200 },
      )
      .toBe(0);
    const watcher = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(watcher);
      const subjects =
        (await jsm.streams.info(streamNames(prefix).events, { subjects_filter: ">" })).state.subjects ?? {};
      // One event per revision: none lost, none stored twice.
      expect(subjects[`${prefix}.config.changed.production.stalled`]).toBe(layer.revision);
    } finally {
      await watcher.close();
    }
    for (const svc of [registry, detector]) {
      await expect.poll(async () => (await fetch(`${svc.url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    }
    await recordFigure({
      fault: `nats-server SIGSTOPped ${STALL_MS / 1000} s, then SIGKILLed and restarted, under a writer (registry + drift-detector)`,
      outcome: `${acked} acknowledged writes, each stored and announced once; detector on the last revision; both ready`,
      figure: `${duringPause} writes acknowledged while NATS was frozen; caught up ${(caughtUpMs / 1000).toFixed(1)} s after the restart`,
    });
  }, 180_000);
});
