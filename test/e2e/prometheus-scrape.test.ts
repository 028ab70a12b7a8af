/**
 * A real Prometheus (Debian's `prometheus`) scrapes the registry, the drift-detector and the
 * notifier over HTTP: every target is up with no parse error (Prometheus is strict about the
 * exposition format and naming), and the operator metrics are queryable per service.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTANCE_HEARTBEAT } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../services/config-registry/test/integration/harness.js";
import { heartbeat, startWorld, type World } from "../../services/drift-detector/test/integration/harness.js";
import {
  type Harness as NotifierHarness,
  startNotifier,
} from "../../services/notifier/test/integration/harness.js";

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

// biome-ignore lint/suspicious/noExplicitAny: Prometheus API answers are read freely
type Json = any;

describe("a real Prometheus scraping every service", () => {
  let world: World;
  let notifier: NotifierHarness;
  let prometheus: ChildProcess;
  let dir: string;
  let api: string;
  const stderr: string[] = [];

  const get = async (path: string): Promise<Json> => {
    const res = await fetch(`${api}${path}`);
    return res.json();
  };
  const until = async <T>(
    fn: () => Promise<T | null | undefined | false>,
    timeoutMs = 30_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => null);
      if (v) return v;
      if (Date.now() > deadline)
        throw new Error(`Prometheus did not get there in time; its log:\n${stderr.join("")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    [world, notifier] = await Promise.all([startWorld(), startNotifier()]);
    const apps = {
      "config-registry": world.registry.registry.app,
      "drift-detector": world.detector.app.app,
      notifier: notifier.app.app,
    };
    const targets: Record<string, string> = {};
    for (const [name, app] of Object.entries(apps)) {
      await app.listen({ port: 0, host: "127.0.0.1" });
      targets[name] = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
    }
    dir = await mkdtemp(join(tmpdir(), "nexus-prometheus-"));
    const jobs = Object.entries(targets)
      .map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ["${target}"]`)
      .join("\n");
    await writeFile(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n${jobs}\n`,
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr?.on("data", (c: Buffer) => stderr.push(c.toString()));
    await until(async () => (await fetch(`${api}/-/ready`)).ok);

    // Some activity: a namespace written, an instance reporting, an alert routed nowhere.
    expect((await call(world.registry, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    expect((await call(world.registry, "PUT", "/v1/namespaces/shop/layers/base", { v: 1 })).status).toBe(200);
    const r = await call(world.registry, "GET", "/v1/namespaces/shop/environments/production/resolved");
    await world.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({ namespace: "shop", instanceId: "p-1", revision: r.body.revision, hash: r.body.hash }),
    );
  }, 90_000);
  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    await new Promise((r) => (prometheus?.exitCode !== null ? r(null) : prometheus.once("exit", r)));
    await world?.close();
    await notifier?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds every service up, its exposition parsed, and the operator metrics queryable", async () => {
    const targets = await until(async () => {
      const t = (await get("/api/v1/targets")).data.activeTargets as Json[];
      return t.length === 3 && t.every((x) => x.health !== "unknown") ? t : null;
    });
    for (const t of targets)
      expect({ job: t.labels.job, health: t.health, error: t.lastError }).toEqual({
        job: t.labels.job,
        health: "up",
        error: "",
      });

    const series = async (query: string) =>
      ((await get(`/api/v1/query?query=${encodeURIComponent(query)}`)).data.result as Json[]).map((s) => ({
        service: s.metric.service,
        value: Number(s.value[1]),
        metric: s.metric,
      }));
    const written = await until(async () => {
      const s = await series('nexus_config_writes_total{outcome="applied"}');
      return s.length > 0 ? s : null;
    });
    expect(written.every((s) => s.service === "config-registry" && s.value >= 1)).toBe(true);
    const live = await until(async () => {
      const s = await series('nexus_drift_instances{state="live"}');
      return s.length > 0 && s[0]!.value === 1 ? s : null;
    });
    expect(live).toEqual([expect.objectContaining({ service: "drift-detector", value: 1 })]);
    const outbox = await series("nexus_outbox_oldest_pending_age_seconds");
    expect(outbox.map((s) => s.service).sort()).toEqual(["config-registry", "drift-detector"]);
    const queued = await series("nexus_notifier_queued_deliveries");
    expect(queued.map((s) => s.metric.receiver_type).sort()).toEqual([
      "email",
      "pagerduty",
      "slack",
      "webhook",
    ]);
    const consumers = await series("nexus_consumer_pending_messages");
    expect(new Set(consumers.map((s) => s.service))).toEqual(
      new Set(["config-registry", "drift-detector", "notifier"]),
    );
  });
});
