import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { connectConfig, type NexusConfig } from "@nexus/client";
import type { RevisionTimelineDto } from "@nexus/contracts";
import { createLogger } from "@nexus/kit";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as runCli } from "../../packages/cli/src/main.js";
import type { Io } from "../../packages/cli/src/output/output.js";
import { type Harness as Monitor, startMonitor } from "../../services/monitor/test/integration/harness.js";
import { type Harness as Notifier, startNotifier } from "../../services/notifier/test/integration/harness.js";
import { type ScriptedReceiver, startReceiver } from "../../services/notifier/test/integration/receivers.js";
import {
  eventually,
  seedShop,
  startWorld,
  type World,
} from "../../services/orchestrator/test/integration/harness.js";

/**
 * `nexus trace <ns> <revision>`: one change end to end, from what the services store. The real
 * registry, drift-detector, orchestrator, notifier and monitor (in this process, on loopback
 * ports, one NATS prefix), three SDK instances (two apply, one refuses), a pipeline the change
 * triggers and a webhook receiver the notifier delivers to. The monitor asks each service with
 * the caller's token and merges their answers into one timeline; the CLI prints it.
 */
describe("the timeline of one revision", () => {
  let world: World;
  let notifier: Notifier;
  let monitor: Monitor;
  let hook: ScriptedReceiver;
  let monitorUrl: string;
  let adminToken: string;
  let cacheDir: string;
  const instances: NexusConfig<Record<string, unknown>>[] = [];
  let written: number;

  const listen = async (app: { listen(o: object): Promise<string>; server: { address(): unknown } }) => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  };
  const timeline = async (token: string, path: string) => {
    const res = await fetch(`${monitorUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      body: (await res.json()) as RevisionTimelineDto & { error?: { code: string } },
    };
  };

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    cacheDir = await mkdtemp(join(tmpdir(), "nexus-timeline-"));
    [notifier, hook] = await Promise.all([
      startNotifier({}, { nats: world.registry.nats, issuer: world.issuer }),
      startReceiver(),
    ]);
    const notifierUrl = await listen(notifier.app.app);
    const routing = await notifier.call("PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupWaitMs: 0,
        routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" }],
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(routing.status).toBe(200);
    const orchestrator = await world.startOrchestrator();
    const orchestratorUrl = await listen(orchestrator.app);
    const logger = createLogger({ service: "monitor-test", level: "silent" });
    monitor = await startMonitor(
      {
        registryUrl: world.registryUrl,
        driftDetectorUrl: world.detectorUrl,
        notifierUrl,
        orchestratorUrl,
      },
      { nats: world.registry.nats, authenticator: () => world.issuer.authenticator(logger) },
    );
    monitorUrl = await listen(monitor.app.app);
    adminToken = await world.issuer.token(["admin"], { subject: "ops" });

    const pipeline = await world.call("POST", "/v1/pipelines", {
      name: "shop-to-production",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      triggers: [{ type: "config.changed" }],
      steps: [{ type: "validate" }, { type: "promote" }],
    });
    expect(pipeline.status).toBe(201);

    const sdkToken = await world.registry.tokenFor(["viewer:shop:staging"], { name: "shop-api" });
    const connect = async (instanceId: string, refuse: boolean) => {
      const cfg = await connectConfig<Record<string, unknown>>({
        namespace: "shop",
        environment: "staging",
        service: "shop-api",
        instanceId,
        url: world.registryUrl,
        token: sdkToken,
        nats: { servers: TEST_NATS_URL },
        subjectPrefix: world.registry.nats.prefix,
        cacheFile: join(cacheDir, `${instanceId}.json`),
      });
      if (refuse)
        cfg.on("change", (next) => {
          if ((next as { replicas?: number }).replicas === 3) throw new Error("three replicas is not enough");
        });
      instances.push(cfg);
    };
    await Promise.all([
      connect("shop-api-1", false),
      connect("shop-api-2", false),
      connect("shop-api-3", true),
    ]);
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.close()));
    await monitor?.close();
    await notifier?.close();
    await world?.close();
    await hook?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it("shows the write, the event, each instance's ack, the drift, the notification and the pipeline run in order", async () => {
    const write = await world.registryCall(
      "PUT",
      "/v1/namespaces/shop/layers/staging?message=three%20replicas",
      {
        db: { host: "staging-db" },
        replicas: 3,
        checkout: { enabled: true },
      },
    );
    expect(write.status).toBe(200);
    written = write.body.revision as number;

    // Wait for every part to have happened, then ask for the timeline once more.
    const done = (t: RevisionTimelineDto) => {
      const kinds = t.steps.map((s) => s.kind);
      return (
        t.steps.filter((s) => s.kind === "applied").length === 2 &&
        kinds.includes("rejected") &&
        kinds.includes("drift-found") &&
        kinds.includes("notified") &&
        kinds.includes("run-finished")
      );
    };
    const { body: t } = await eventually(
      () => timeline(adminToken, `/v1/namespaces/shop/revisions/${written}/timeline`),
      (r) => r.status === 200 && done(r.body),
      30_000,
    );
    expect(t).toMatchObject({ namespace: "shop", revision: written, layer: "staging", missing: [] });
    expect(t.author).toBeTruthy();
    const times = t.steps.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const first = (kind: string) => t.steps.findIndex((s) => s.kind === kind);
    // Cause before effect. (The relay stamps `published` in batches, up to ~100 ms after JetStream's
    // ack, so consumers may show before it.)
    expect(first("written")).toBe(0);
    expect(first("published")).toBeGreaterThan(first("written"));
    expect(first("applied")).toBeGreaterThan(first("written"));
    expect(first("run-started")).toBeGreaterThan(first("written"));
    expect(first("run-finished")).toBeGreaterThan(first("run-started"));
    expect(first("notified")).toBeGreaterThan(first("notification-queued"));

    expect(t.steps.find((s) => s.kind === "published")).toMatchObject({
      service: "config-registry",
      environment: "staging",
    });
    expect(
      t.steps
        .filter((s) => s.kind === "applied")
        .map((s) => s.instance)
        .sort(),
    ).toEqual(["shop-api-1", "shop-api-2"]);
    expect(t.steps.find((s) => s.kind === "rejected")).toMatchObject({
      instance: "shop-api-3",
      service: "shop-api",
      environment: "staging",
    });
    expect(t.steps.find((s) => s.kind === "drift-found")?.text).toMatch(/rejected/);
    expect(t.steps.find((s) => s.kind === "notified")?.text).toContain("hook");
    expect(hook.requests.length).toBeGreaterThan(0);
    const finished = t.steps.find((s) => s.kind === "run-finished");
    expect(finished?.text).toMatch(/shop-to-production succeeded, production now at revision \d+/);
    expect(t.steps.filter((s) => s.kind === "run-step").map((s) => s.text)).toEqual([
      expect.stringMatching(/^step 1 validate \(validate\) succeeded/),
      expect.stringMatching(/^step 2 promote \(promote\) succeeded/),
    ]);
  }, 60_000);

  it("prints the timeline with `nexus trace`, one line per step", async () => {
    let out = "";
    const stdout = new PassThrough();
    stdout.on("data", (d) => {
      out += d;
    });
    const io = {
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      env: {
        NEXUS_MONITOR_URL: monitorUrl,
        NEXUS_TOKEN: adminToken,
        NEXUS_CONFIG: "/nonexistent/nexus.json",
      },
      cwd: process.cwd(),
      home: "/nonexistent",
      username: "cli-user",
    } as unknown as Io;
    expect(await runCli(["node", "nexus", "trace", "shop", String(written)], io)).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^shop revision ${written}: layer staging, by `));
    expect(lines[1]).toMatch(
      /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s+\+0\.000s\s+config-registry\s+written\s/,
    );
    expect(out).toMatch(/shop-api \/ staging\s+applied\s+shop-api-1 \(shop-api\) applied it/);
    expect(out).toMatch(/shop-api \/ staging\s+rejected\s+shop-api-3 \(shop-api\) rejected it/);
    expect(out).toMatch(/notifier\s+notified\s+hook was notified/);
    expect(out).not.toContain("not shown");
  });

  it("answers as the caller may see: 404 for a namespace outside their grants or a revision that does not exist", async () => {
    const outsider = await world.issuer.token(["viewer:other:*"], { subject: "vera" });
    const hidden = await timeline(outsider, `/v1/namespaces/shop/revisions/${written}/timeline`);
    expect(hidden.status).toBe(404);
    const none = await timeline(adminToken, "/v1/namespaces/shop/revisions/999999/timeline");
    expect(none.status).toBe(404);
    expect(none.body.error?.code).toBe("revision_not_found");
    const bad = await timeline(adminToken, "/v1/namespaces/shop/revisions/zero/timeline");
    expect(bad.status).toBe(400);
    // A viewer of staging only: the drift-detector and registry answer; the notifier and the
    // orchestrator's listing show what they allow, and what is refused is named, not an error.
    const stagingViewer = await world.issuer.token(["viewer:shop:staging"], { subject: "sam" });
    const partial = await timeline(stagingViewer, `/v1/namespaces/shop/revisions/${written}/timeline`);
    expect(partial.status).toBe(200);
    expect(partial.body.steps.filter((s) => s.kind === "applied")).toHaveLength(2);
    expect(partial.body.missing.map((m) => m.service)).toContain("notifier");
  });
});
