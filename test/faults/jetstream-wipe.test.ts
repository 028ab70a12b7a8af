import { connect, type NatsConnection } from "@nats-io/transport-node";
import { streamNames } from "@nexus/kit";
import { natsServerBinary } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA } from "../../services/config-registry/test/integration/harness.js";
import { type DetectorProcess, startDetectorProcess } from "../support/detector-process.js";
import { type PrivateNatsSystem, startPrivateNatsSystem } from "../support/private-servers.js";
import { recordFigure } from "./figures.js";

/**
 * The JetStream store lost while the system runs: nats-server (a private one) is killed, its store
 * deleted, and it comes back empty, with the registry and the drift-detector running all along.
 * Nothing is restarted by hand. The services must make the stream and their durables again, the
 * changes written while NATS was down must be published, and the detector must end up with every
 * head, from the outbox (events the lost stream held are re-published once, not again and again).
 */
const binary = natsServerBinary();

describe.skipIf(!binary)("fault: a wiped JetStream store", () => {
  let sys: PrivateNatsSystem | undefined;
  let detector: DetectorProcess | undefined;
  let watcher: NatsConnection | undefined;
  afterAll(async () => {
    await watcher?.close().catch(() => undefined);
    await detector?.stop();
    await sys?.close();
  });

  it("recreates streams and durables and makes the consumers whole, without a restart", async () => {
    sys = await startPrivateNatsSystem({ binary: binary!, prefix: "faults" });
    const { nats, db, registry, prefix, send, head: headOf } = sys;
    detector = await startDetectorProcess(sys.detectorEnv, { built: true });
    const head = () => headOf("wiped");

    expect((await send("POST", "/v1/namespaces", { name: "wiped" })).status).toBe(201);
    for (let i = 1; i <= 3; i++) {
      expect((await send("PUT", "/v1/namespaces/wiped/layers/production", { n: i })).status).toBe(200);
    }
    await expect.poll(head, { timeout: 15_000, interval: 100 }).toBe(3);

    // The store is lost: kill -9, and while NATS is away five more changes are acknowledged.
    await nats.kill();
    for (let i = 4; i <= 8; i++) {
      expect((await send("PUT", "/v1/namespaces/wiped/layers/production", { n: i })).status).toBe(200);
    }
    const restartedAt = Date.now();
    await nats.restart({ wipe: true });

    // A live subscriber counts each announcement: a relay must not send unstored events over and over.
    watcher = await connect({ servers: nats.url });
    const seen = new Map<string, number>();
    watcher.subscribe(`${prefix}.config.changed.>`, {
      callback: (_err, m) => {
        const id = m.headers?.get("Nats-Msg-Id") ?? "";
        seen.set(id, (seen.get(id) ?? 0) + 1);
      },
    });

    await expect.poll(head, { timeout: 30_000, interval: 200 }).toBe(8);
    const caughtUpMs = Date.now() - restartedAt;
    const unpublished = await db.pool.query(
      `SELECT count(*)::int AS n FROM ${REGISTRY_SCHEMA}.outbox WHERE published_at IS NULL`,
    );
    expect(unpublished.rows[0].n).toBe(0);
    const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(watcher);
    const stream = await jsm.streams.info(streamNames(prefix).events);
    const subjects =
      (await jsm.streams.info(streamNames(prefix).events, { subjects_filter: ">" })).state.subjects ?? {};
    // Every change of the namespace is in the new stream: the 3 the old stream held, re-published
    // from the outbox, and the 5 written while NATS was away.
    expect(subjects[`${prefix}.config.changed.production.wiped`]).toBe(8);
    expect(stream.state.messages).toBeGreaterThanOrEqual(8);
    await new Promise((r) => setTimeout(r, 3_000));
    const repeats = [...seen.values()].filter((n) => n > 1).length;
    expect(repeats).toBe(0);
    const ready = (await (await fetch(`${registry.url}/readyz`)).json()) as {
      checks: Record<string, { status: string }>;
    };
    expect(ready.checks.jetstream?.status).toBe("up");

    await recordFigure({
      fault: "JetStream store wiped (kill -9, store deleted, restart), registry + drift-detector running",
      outcome: `8 of 8 changes stored and consumed (5 written while NATS was down); ${repeats} repeated announcements`,
      figure: `caught up ${(caughtUpMs / 1000).toFixed(1)} s after the restart`,
    });
  }, 120_000);
});
