import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { promisify } from "node:util";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import {
  checkReadiness,
  createBus,
  createLogger,
  readHttpTotals,
  registerMetrics,
  type ServiceHeartbeatPublisher,
  startServiceHeartbeat,
} from "@nexus/kit";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * A service as it runs: a fastify app with the kit's RED metrics hook, and the kit heartbeat
 * reporting its HTTP traffic on core NATS to a real monitor. Too many 5xx, or too slow, fires
 * the SLO rules; healthy traffic after the window resolves them. A real TLS server presenting a
 * certificate that expires in 3 days fires `certificate_expiring`; a renewed one resolves it.
 */
let h: Harness;
let sub: Subscription;
let api: FastifyInstance;
let serviceNc: NatsConnection;
let heartbeat: ServiceHeartbeatPublisher;
let tls: Server;
let dir: string;
const announced: { type: string; fingerprint: string; details: string }[] = [];
const heard: JsonBody[] = [];

const count = (type: string, fingerprint: string) =>
  announced.filter((e) => e.type === type && e.fingerprint === fingerprint).length;
const alerts = async (): Promise<JsonBody[]> =>
  (await h.call("GET", "/v1/alerts?status=firing,resolved")).body.items;
const alertOf = (items: JsonBody[], fingerprint: string) => items.find((a) => a.fingerprint === fingerprint);

const run = promisify(execFile);
async function selfSigned(name: string, days: number) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    String(days),
    "-subj",
    `/CN=${name}`,
  ]);
  return { key: await readFile(key), cert: await readFile(cert) };
}

async function traffic(n: number, path: string) {
  for (let i = 0; i < n; i++) await api.inject({ method: "GET", url: path });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-certs-"));
  const soon = await selfSigned("soon.nexus.test", 3);
  tls = createServer(soon, (socket) => socket.end());
  await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
  const endpoint = `127.0.0.1:${(tls.address() as AddressInfo).port}`;

  h = await startMonitor({ certificateRefreshMs: 200 });
  sub = h.nats.nc.subscribe(`${h.nats.prefix}.alert.>`);
  void (async () => {
    for await (const m of sub) {
      const e = m.json<{ type: string; data: { fingerprint: string; details: string } }>();
      announced.push({ type: e.type, fingerprint: e.data.fingerprint, details: e.data.details });
    }
  })();
  const beats = h.nats.nc.subscribe(`${h.nats.prefix}.service.heartbeat.payments-api.>`);
  void (async () => {
    for await (const m of beats) heard.push(m.json());
  })();

  const put = await h.call("PUT", "/v1/alert-rules", {
    rules: [
      {
        name: "errors",
        kind: "slo_error_rate",
        services: ["payments-*"],
        threshold: 0.05,
        window: "2s",
        minRequests: 10,
      },
      {
        name: "slow",
        kind: "slo_latency",
        services: ["payments-*"],
        threshold: 400,
        window: "2s",
        minRequests: 5,
      },
      { name: "certs", kind: "certificate_expiring", endpoints: [endpoint], within: "14d" },
    ],
  });
  expect(put.status).toBe(200);

  api = Fastify();
  const registry = new Registry();
  registerMetrics(api, registry);
  api.get("/pay", async (request, reply) => {
    const q = request.query as { fail?: string; delayMs?: string };
    if (q.delayMs) await new Promise((r) => setTimeout(r, Number(q.delayMs)));
    return q.fail ? reply.code(503).send({ error: "down" }) : { ok: true };
  });
  await api.ready();
  serviceNc = await connect({ servers: TEST_NATS_URL, name: "payments-api-test", noAsyncTraces: true });
  const logger = createLogger({ service: "payments-api", level: "silent" });
  heartbeat = startServiceHeartbeat({
    service: "payments-api",
    packageJsonUrl: new URL("../../package.json", import.meta.url),
    instanceId: "pay-1",
    intervalSeconds: 0.2,
    nc: serviceNc,
    bus: createBus({ nc: serviceNc, prefix: h.nats.prefix, source: "nexus/payments-api", logger }),
    pool: null,
    readiness: () => checkReadiness([], false),
    durables: [],
    logger,
    readHttpCounts: () => readHttpTotals(registry),
  });
}, 60_000);

afterAll(async () => {
  await heartbeat?.stop();
  await serviceNc?.close();
  await api?.close();
  sub?.unsubscribe();
  await h?.close();
  await new Promise((r) => tls?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("monitor: SLO rules from the kit heartbeat's HTTP traffic", () => {
  it("fires slo_error_rate on 5xx over the threshold and resolves once healthy traffic fills the window", async () => {
    const fp = "monitor:errors:payments-api";
    await traffic(20, "/pay");
    await traffic(10, "/pay?fail=1");
    const firing = await eventually(alerts, (items) => alertOf(items, fp)?.status === "firing");
    expect(alertOf(firing, fp)).toMatchObject({
      labels: { service: "payments-api", kind: "slo_error_rate" },
    });
    expect(alertOf(firing, fp).summary).toContain("server error");
    // What the service said: the heartbeats carried the counts (the 10 failures among 30).
    const sent = heard.filter((b) => b.http).reduce((n, b) => n + b.http.errors5xx, 0);
    expect(sent).toBe(10);

    // Healthy traffic for longer than the 2 s window: the failures age out.
    const until = Date.now() + 2_600;
    while (Date.now() < until) await traffic(5, "/pay");
    await eventually(
      async () => count("nexus.alert.resolved", fp),
      (n) => n === 1,
    );
    expect(count("nexus.alert.raised", fp)).toBe(1);
  });

  it("fires slo_latency on a p99 over the threshold and resolves when requests are fast again", async () => {
    const fp = "monitor:slow:payments-api";
    expect(count("nexus.alert.raised", fp)).toBe(0);
    await Promise.all(Array.from({ length: 6 }, () => traffic(1, "/pay?delayMs=600")));
    const firing = await eventually(alerts, (items) => alertOf(items, fp)?.status === "firing");
    expect(alertOf(firing, fp).summary).toMatch(/p99 latency is 1000 ms/);
    const until = Date.now() + 2_600;
    while (Date.now() < until) await traffic(5, "/pay");
    await eventually(
      async () => count("nexus.alert.resolved", fp),
      (n) => n === 1,
    );
  });
});

describe("monitor: certificate_expiring against a real TLS endpoint", () => {
  it("fires for a certificate expiring in 3 days and resolves when the endpoint presents a renewed one", async () => {
    const items = await eventually(alerts, (xs) => xs.some((a) => a.labels.kind === "certificate_expiring"));
    const alert = items.find((a) => a.labels.kind === "certificate_expiring");
    expect(alert.status).toBe("firing");
    expect(alert.summary).toMatch(/expires in [23] days/);
    const raised = await eventually(
      async () =>
        announced.find((e) => e.type === "nexus.alert.raised" && e.fingerprint === alert.fingerprint),
      Boolean,
    );
    expect(raised?.details).toContain("soon.nexus.test");

    tls.setSecureContext(await selfSigned("renewed.nexus.test", 90));
    await eventually(
      async () => count("nexus.alert.resolved", alert.fingerprint),
      (n) => n === 1,
    );
  });
});
