import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { streamNames } from "@nexus/kit";
import { natsServerBinary } from "@nexus/test-fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { REGISTRY_SCHEMA } from "../../services/config-registry/test/integration/harness.js";
import { startDetectorProcess } from "../support/detector-process.js";
import { canMakeNetns, createNetns, type Netns } from "../support/netns.js";
import { type PrivateNatsSystem, startPrivateNatsSystem } from "../support/private-servers.js";
import type { ServiceProcess } from "../support/service-process.js";
import { recordFigure } from "./figures.js";

/**
 * A network partition between one service and NATS. The drift-detector runs in a network
 * namespace of the test's own, reaching a private nats-server (and, through relays, Postgres)
 * over a veth pair; the registry runs on the host. iptables inside the namespace drops every
 * packet to and from NATS (no refusal, no reset: the connection just goes silent) for longer than
 * the ack wait of its config.changed durable (CHANGES_ACK_WAIT_MS, 5 s here instead of 30 s, so the
 * cut is 8 s rather than 32) while the registry keeps writing, then the rule is removed.
 * Nothing is restarted. The detector must say NATS is down while it is cut, and end with every
 * `config.changed` applied exactly once (one idempotency row per event, none missing), its durable
 * empty, no dead letters.
 *
 * FAULTS_LONG=1 cuts for 90 s instead: past the client's stale-connection detection (3 missed
 * pings 20 s apart), so the detector reconnects on a new connection rather than resuming the old.
 */
const binary = natsServerBinary();
const ACK_WAIT_MS = 5_000;
const CUT_MS = process.env.FAULTS_LONG === "1" ? 90_000 : ACK_WAIT_MS + 3_000;

describe.skipIf(!binary || !canMakeNetns())("fault: a network partition between a service and NATS", () => {
  let netns: Netns | undefined;
  let sys: PrivateNatsSystem | undefined;
  let detector: ServiceProcess | undefined;
  let watcher: NatsConnection | undefined;
  afterAll(async () => {
    await watcher?.close().catch(() => undefined);
    await netns?.heal().catch(() => undefined);
    await detector?.kill();
    await sys?.close();
    await netns?.remove();
  });

  it(
    "reports NATS while cut off, recovers by itself, and applies every change once",
    async () => {
      netns = await createNetns();
      sys = await startPrivateNatsSystem({
        binary: binary!,
        prefix: "partition",
        nats: { host: netns.hostIp },
      });
      const { nats, db, prefix, send, head: headOf } = sys;
      // Postgres listens on the host's loopback only: the namespace reaches it through a relay.
      const pg = new URL(db.url);
      pg.host = await netns.relay(Number(pg.port || 5432));
      detector = await startDetectorProcess(
        {
          ...sys.detectorEnv,
          HOST: netns.nsIp,
          DATABASE_URL: pg.toString(),
          CHANGES_ACK_WAIT_MS: String(ACK_WAIT_MS),
        },
        { wrap: netns.wrap, built: true },
      );
      const head = () => headOf("cut");
      const natsCheck = async () => {
        const body = (await (await fetch(`${detector!.url}/readyz`)).json()) as {
          checks: Record<string, { status: string; error?: string }>;
        };
        return body.checks.nats;
      };

      expect((await send("POST", "/v1/namespaces", { name: "cut" })).status).toBe(201);
      for (let i = 1; i <= 3; i++)
        expect((await send("PUT", "/v1/namespaces/cut/layers/production", { n: i })).status).toBe(200);
      await expect.poll(head, { timeout: 20_000, interval: 100 }).toBe(3);

      // The cut. The registry (on the host) keeps writing; the detector hears nothing.
      await netns.cut(Number(new URL(nats.url).port));
      const cutAt = Date.now();
      await expect
        .poll(async () => (await natsCheck())?.status, { timeout: 10_000, interval: 250 })
        .toBe("down");
      const reportedMs = Date.now() - cutAt;
      let written = 3;
      while (Date.now() - cutAt < CUT_MS) {
        written++;
        expect((await send("PUT", "/v1/namespaces/cut/layers/production", { n: written })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(await head()).toBe(3);
      expect((await natsCheck())?.status).toBe("down");

      // Healed: no restart, no manual step.
      await netns.heal();
      const healedAt = Date.now();
      await expect.poll(head, { timeout: 90_000, interval: 250 }).toBe(written);
      const caughtUpMs = Date.now() - healedAt;
      await expect
        .poll(async () => (await natsCheck())?.status, { timeout: 10_000, interval: 250 })
        .toBe("up");

      // Complete and once: every config.changed the registry published has exactly one
      // idempotency row of the heads' part, the durable holds nothing, and nothing was dead-lettered.
      const published = await db.pool.query<{ id: string }>(
        `SELECT id::text AS id FROM ${REGISTRY_SCHEMA}.outbox WHERE subject LIKE '%config.changed%'`,
      );
      const applied = await db.pool.query<{ id: string }>(
        "SELECT event_id::text AS id FROM drift_detector.processed_events WHERE consumer = 'drift-heads'",
      );
      expect(published.rows.length).toBe(written);
      expect(new Set(applied.rows.map((r) => r.id))).toEqual(new Set(published.rows.map((r) => r.id)));
      watcher = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(watcher);
      const names = streamNames(prefix);
      const durable = (await jsm.consumers.list(names.events).next()).find((c) =>
        c.name.startsWith("drift-changes-"),
      )!.name;
      const info = await jsm.consumers.info(names.events, durable);
      // The premise: the cut outlasted the durable's ack wait.
      expect(info.config.ack_wait).toBe(ACK_WAIT_MS * 1_000_000);
      expect(info.num_pending).toBe(0);
      await expect
        .poll(async () => (await jsm.consumers.info(names.events, durable)).num_ack_pending, {
          timeout: 10_000,
        })
        .toBe(0);
      const dlq = await jsm.streams.info(names.dlq).catch(() => undefined);
      expect(dlq?.state.messages ?? 0).toBe(0);

      await recordFigure({
        fault: `network partition drift-detector ↔ NATS (iptables DROP in a netns, ${CUT_MS / 1000} s, ack wait ${ACK_WAIT_MS / 1000} s)`,
        outcome: `/readyz nats down ${(reportedMs / 1000).toFixed(1)} s after the cut; ${written} of ${written} changes applied once, 0 pending, 0 dead letters; ${info.num_redelivered} redelivered`,
        figure: `caught up ${(caughtUpMs / 1000).toFixed(1)} s after the heal`,
      });
    },
    CUT_MS + 150_000,
  );
});
