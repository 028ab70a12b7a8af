import { connect, type NatsConnection } from "@nats-io/transport-node";
import { streamNames } from "@nexus/kit";
import { natsServerBinary } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA } from "../../services/config-registry/test/integration/harness.js";
import { type DetectorProcess, startDetectorProcess } from "../support/detector-process.js";
import { type PrivateNatsSystem, startPrivateNatsSystem } from "../support/private-servers.js";
import { canMountTmpfs, mountSmallDisk, type SmallDisk } from "../support/tmpfs.js";
import { recordFigure } from "./figures.js";

/**
 * The JetStream store's disk fills up under running services: a private nats-server keeps its
 * store on a small tmpfs, and a filler file takes the free space. Writes to the registry still
 * commit (to Postgres and its outbox), readiness says NATS does not answer, and nothing is
 * announced that was not stored.
 *
 * Debian's nats-server 2.9.10 does not survive the full disk by itself: its first failed store
 * write deadlocks the server (filestore.go: `writeMsgRecord` holds the store's lock and calls
 * `rebuildStateLocked`, which takes it again; a goroutine dump shows it), and it answers no PING
 * even after the space returns. So recovery here is what a liveness probe does: free the space,
 * restart nats-server on the same store. Nexus's part is then to publish and consume every change
 * written meanwhile, once, with no service restarted.
 */
const binary = natsServerBinary();

describe.skipIf(!binary || !canMountTmpfs())("fault: the JetStream store's disk is full", () => {
  let disk: SmallDisk | undefined;
  let sys: PrivateNatsSystem | undefined;
  let detector: DetectorProcess | undefined;
  let watcher: NatsConnection | undefined;
  afterAll(async () => {
    await watcher?.close().catch(() => undefined);
    await detector?.stop();
    await sys?.close(); // kills nats-server: a deadlocked one ignores SIGTERM
    await disk?.remove();
  });

  it("keeps writes, reports the store, and publishes and consumes every change once space returns", async () => {
    disk = await mountSmallDisk(16 * 1024 * 1024);
    sys = await startPrivateNatsSystem({ binary: binary!, prefix: "diskfull", nats: { storeDir: disk.dir } });
    const { nats, db, registry, prefix, send, head: headOf } = sys;
    detector = await startDetectorProcess(sys.detectorEnv, { built: true });
    const head = () => headOf("full");
    const unpublished = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${REGISTRY_SCHEMA}.outbox WHERE published_at IS NULL`,
        )
      ).rows[0]!.n;
    const readiness = async () =>
      (await (await fetch(`${registry.url}/readyz`)).json()) as {
        status: string;
        checks: Record<string, { status: string; error?: string }>;
      };

    // A live subscriber counts each announcement: nothing the stream refused is sent again and again.
    watcher = await connect({ servers: nats.url });
    const seen = new Map<string, number>();
    watcher.subscribe(`${prefix}.config.changed.>`, {
      callback: (_err, m) => {
        const id = m.headers?.get("Nats-Msg-Id") ?? "";
        seen.set(id, (seen.get(id) ?? 0) + 1);
      },
    });

    expect((await send("POST", "/v1/namespaces", { name: "full" })).status).toBe(201);
    for (let i = 1; i <= 3; i++)
      expect((await send("PUT", "/v1/namespaces/full/layers/production", { n: i })).status).toBe(200);
    await expect.poll(head, { timeout: 15_000, interval: 100 }).toBe(3);

    // The disk fills up. Writes still commit: Postgres and the outbox hold them.
    await disk.fill();
    const filledAt = Date.now();
    const big = "x".repeat(64 * 1024);
    for (let i = 4; i <= 8; i++)
      expect((await send("PUT", "/v1/namespaces/full/layers/production", { n: i, big })).status).toBe(200);
    await expect.poll(unpublished, { timeout: 15_000, interval: 200 }).toBeGreaterThan(0);
    // Readiness names the dependency: NATS (critical) does not answer, so the registry is not ready.
    const whileFull = await readiness();
    expect(whileFull.status).toBe("not_ready");
    expect(whileFull.checks.nats).toMatchObject({
      status: "down",
      error: expect.stringMatching(/no answer/),
    });
    expect(whileFull.checks.postgres?.status).toBe("up");
    expect(await head()).toBeLessThan(8);

    // The space comes back; the hung nats-server is restarted on its store (its liveness probe's
    // job). No Nexus service is touched: the outbox drains and the detector catches up.
    await disk.unfill();
    await nats.restart();
    const freedAt = Date.now();
    await expect.poll(head, { timeout: 30_000, interval: 200 }).toBe(8);
    await expect.poll(unpublished, { timeout: 10_000, interval: 200 }).toBe(0);
    const caughtUpMs = Date.now() - freedAt;
    await new Promise((r) => setTimeout(r, 2_000));
    // A live (core) subscriber may see once more the one event the server took when it hung: NATS
    // hands a message to core subscribers before its stream stores it, and the relay, never
    // acknowledged, sends it again after the restart. Durable consumers see it once (below).
    const repeats = [...seen.values()].filter((n) => n > 1).length;
    expect(repeats).toBeLessThanOrEqual(1);
    expect([...seen.values()].every((n) => n <= 2)).toBe(true);
    expect(seen.size).toBe(8);
    // The store kept what it had acknowledged and took the rest: every change once in the stream.
    const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(watcher);
    const subjects =
      (await jsm.streams.info(streamNames(prefix).events, { subjects_filter: ">" })).state.subjects ?? {};
    expect(subjects[`${prefix}.config.changed.production.full`]).toBe(8);
    expect((await readiness()).checks.jetstream?.status).toBe("up");

    await recordFigure({
      fault: "JetStream store's disk full (16 MiB tmpfs, filler), registry + drift-detector running",
      outcome: `writes committed, /readyz 503 (nats: no answer); nats-server 2.9.10 deadlocks, restarted on its store; 8 of 8 changes stored once and consumed once; ${repeats} seen twice by a live core subscriber (the one the hung server took)`,
      figure: `full for ${((freedAt - filledAt) / 1000).toFixed(1)} s; caught up ${(caughtUpMs / 1000).toFixed(1)} s after the space returned`,
    });
  }, 120_000);
});
