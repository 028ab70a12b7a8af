import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { type Bus, createBus, createLogger, streamNames } from "@nexus/kit";
import { natsServerBinary } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/service-process.js";

const CLUSTER_CONF = fileURLToPath(new URL("../../infra/nats/nats-cluster.conf", import.meta.url));
const USER = "nexus";
const PASSWORD = "cluster-test-password";

interface Node {
  name: string;
  clientPort: number;
  child: ChildProcess;
  output: string;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const changed = (revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace: "cluster-shop",
  environment: "production",
  revision,
  previousRevision: revision - 1,
  hash: "a".repeat(64),
  previousHash: "b".repeat(64),
  layer: "production",
  changedPaths: ["/replicas"],
  trigger: "write",
  actor: "cluster-test",
  source: "api",
});

/**
 * infra/nats/nats-cluster.conf as shipped, on three local nats-server processes (each node's
 * store directory and ports are the only changes), with the streams the kit creates at three
 * replicas (NATS_STREAM_REPLICAS=3). The node leading the durable consumer is killed while events
 * are being published: every event is stored once and the consumer receives all of them.
 */
describe("three-node NATS cluster, one node killed under writes", () => {
  const binary = natsServerBinary();
  let dir: string;
  const nodes: Node[] = [];
  let nc: NatsConnection;
  let bus: Bus;
  const prefix = `tcluster${Date.now().toString(36)}`;

  const startNode = async (
    name: string,
    ports: { client: number; monitor: number; route: number },
    routes: number[],
  ) => {
    const shipped = await readFile(CLUSTER_CONF, "utf8");
    const store = join(dir, name);
    await mkdir(store, { recursive: true });
    // The shipped store_dir is /data/nats; each node here needs its own (never share one).
    const conf = shipped.replace(/store_dir: "[^"]*"/, `store_dir: ${JSON.stringify(store)}`);
    expect(conf).not.toBe(shipped);
    const file = join(dir, `${name}.conf`);
    await writeFile(file, conf);
    const child = spawn(
      binary as string,
      [
        "-c",
        file,
        "-a",
        "127.0.0.1",
        "-p",
        String(ports.client),
        "-m",
        String(ports.monitor),
        "--cluster",
        `nats://127.0.0.1:${ports.route}`,
        "--routes",
        routes.map((p) => `nats://127.0.0.1:${p}`).join(","),
      ],
      {
        env: {
          PATH: process.env.PATH,
          NATS_SERVER_NAME: name,
          NEXUS_NATS_USER: USER,
          NEXUS_NATS_PASSWORD: PASSWORD,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const node: Node = { name, clientPort: ports.client, child, output: "" };
    const keep = (d: Buffer) => {
      node.output += d.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    nodes.push(node);
  };

  beforeAll(async () => {
    expect(binary, "nats-server (Debian package) is installed").toBeDefined();
    dir = await mkdtemp(join(tmpdir(), "nexus-nats-cluster-"));
    const ports = [];
    for (let i = 0; i < 3; i++)
      ports.push({ client: await freePort(), monitor: await freePort(), route: await freePort() });
    const routes = ports.map((p) => p.route);
    for (let i = 0; i < 3; i++) await startNode(`nats-${i + 1}`, ports[i] as (typeof ports)[number], routes);
    await until(
      "every node is ready",
      async () => nodes.every((n) => n.output.includes("Server is ready")),
      15_000,
    );
    nc = await connect({
      servers: nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`),
      user: USER,
      pass: PASSWORD,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    const logger = createLogger({ service: "cluster-test", level: "silent" });
    bus = createBus({ nc, prefix, source: "nexus/cluster-test", logger, streamReplicas: 3 });
    // JetStream needs its cluster leader first: retry until the streams are in place.
    await until(
      "JetStream makes the streams",
      () =>
        bus.ensureStreams().then(
          () => true,
          () => false,
        ),
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    if (nc) {
      const jsm = await jetstreamManager(nc).catch(() => undefined);
      const names = streamNames(prefix);
      await jsm?.streams.delete(names.events).catch(() => undefined);
      await jsm?.streams.delete(names.dlq).catch(() => undefined);
      await nc.close();
    }
    for (const n of nodes) {
      if (n.child.exitCode === null && n.child.signalCode === null) {
        const exited = new Promise((r) => n.child.once("exit", r));
        n.child.kill("SIGTERM");
        await exited;
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores every event once on three replicas and delivers them all after the consumer's leader dies", async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(bus.streams.events);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2); // the leader plus two followers

    const received = new Set<number>();
    const consumption = await bus.consume(CONFIG_CHANGED, { durable: "cluster-consumer" }, async (event) => {
      received.add(event.data.revision);
    });
    try {
      const total = 120;
      const killAt = 40;
      let killed: Node | undefined;
      for (let revision = 1; revision <= total; revision++) {
        if (revision === killAt) {
          // The node leading the consumer (often the stream's leader too): the harder loss, since
          // the pull requests waiting there die with it.
          const durable = consumption.durables[0] as string;
          const leader = (await jsm.consumers.info(bus.streams.events, durable)).cluster?.leader;
          killed = nodes.find((n) => n.name === leader);
          expect(killed, `consumer leader ${leader} is one of ours`).toBeDefined();
          killed?.child.kill("SIGKILL");
        }
        // What the outbox relay does: retry a publish that failed, under the same Nats-Msg-Id
        // (JetStream drops the copy if the first attempt was stored after all).
        for (let attempt = 1; ; attempt++) {
          try {
            await bus.publish(CONFIG_CHANGED, changed(revision), { msgId: `cluster-${revision}` });
            break;
          } catch (err) {
            if (attempt > 60) throw err;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      }
      expect(killed?.child.exitCode !== null || killed?.child.signalCode !== null).toBe(true);

      const after = await jsm.streams.info(bus.streams.events);
      expect(after.state.messages).toBe(total);
      expect(after.cluster?.leader).not.toBe(killed?.name);
      const started = Date.now();
      await expect.poll(() => received.size, { timeout: 45_000, interval: 200 }).toBe(total);
      // Within the new pull's lifetime and a heartbeat or two, not the old 30 s expiry.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await consumption.stop();
    }
  }, 120_000);
});
