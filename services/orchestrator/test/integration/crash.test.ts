import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  HOOK_KEY,
  type JsonBody,
  ORCHESTRATOR_SCHEMA,
  seedShop,
  startWorld,
  type World,
} from "./harness.js";
import { type OrchestratorProcess, startOrchestratorProcess } from "./orchestrator-process.js";

/**
 * The durability promise on the real process: an orchestrator SIGKILLed in the middle of a run
 * resumes it after a restart at the step it was on; a finished step never runs again.
 */
describe("an orchestrator killed mid-run", () => {
  let world: World;
  let proc: OrchestratorProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "nexus-orchestrator-crash-"));

  const env = () => ({
    DATABASE_URL: world.db.url,
    DATABASE_SCHEMA: ORCHESTRATOR_SCHEMA,
    NATS_PREFIX: world.registry.nats.prefix,
    AUTH_TOKEN_KEY: world.registry.tokenKey.toString("base64"),
    REGISTRY_URL: world.registryUrl,
    DRIFT_DETECTOR_URL: world.detectorUrl,
    ORCHESTRATOR_API_TOKEN: world.apiToken,
    ORCHESTRATOR_HOOK_KEY: HOOK_KEY,
    RUN_LEASE_SECONDS: "2",
    RUN_POLL_MS: "50",
    WATCH_POLL_MS: "100",
    RUN_ALLOWED_COMMANDS: "sh",
  });
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${proc!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${world.apiToken}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as JsonBody }));
  const steps = async (runId: string) =>
    (
      await world.db.pool.query(
        "SELECT name, status, attempts FROM run_steps WHERE run_id = $1 ORDER BY idx",
        [runId],
      )
    ).rows as { name: string; status: string; attempts: number }[];
  const runStatus = async (runId: string) =>
    (await world.db.pool.query("SELECT status FROM runs WHERE id = $1", [runId])).rows[0]?.status as string;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
  });
  afterAll(async () => {
    await proc?.stop();
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Two process starts each: slower than the 30 s default on a busy machine.
  it("resumes a run killed while it waits for instances, and runs each step once", {
    timeout: 90_000,
  }, async () => {
    proc = await startOrchestratorProcess(env());
    const created = await api("POST", "/v1/pipelines", {
      name: "shop-crash",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      steps: [
        { type: "validate" },
        { type: "promote" },
        { type: "wait-applied", timeoutSeconds: 60 },
        { type: "health-gate", bakeSeconds: 1 },
      ],
    });
    expect(created.status).toBe(201);
    const before = await world.resolved("shop", "production");
    await world.report("shop", "production", "prod-1", before);

    const started = await api("POST", "/v1/pipelines/shop-crash/runs", {});
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    await eventually(
      () => steps(id),
      (s) => s[2]?.status === "waiting",
    );
    await proc.kill();

    // While no orchestrator runs, the instance applies the promoted revision.
    const promoted = await world.resolved("shop", "production");
    expect(promoted.revision).toBeGreaterThan(before.revision);
    await world.report("shop", "production", "prod-1", promoted);
    expect(await runStatus(id)).toBe("running");

    proc = await startOrchestratorProcess(env());
    await eventually(
      () => runStatus(id),
      (s) => s === "succeeded",
      20_000,
    );
    expect((await steps(id)).map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["validate", "succeeded", 1],
      ["promote", "succeeded", 1],
      ["wait-applied", "succeeded", 1],
      ["health-gate", "succeeded", 1],
    ]);
    // One write to production: the promote step's.
    const history = await world.registryCall("GET", "/v1/namespaces/shop/layers/production/revisions");
    const written = history.body.items.filter((r: { author: string }) => r.author === "pipeline:shop-crash");
    expect(written.map((r: { revision: number }) => r.revision)).toEqual([promoted.revision]);
    const events = await eventually(
      async () => world.events.filter((e) => e.data.runId === id).map((e) => e.type),
      (t) => t.includes("nexus.pipeline.succeeded"),
    );
    expect(events.filter((t) => t === "nexus.pipeline.step-started")).toHaveLength(4);
    expect(events.filter((t) => t === "nexus.pipeline.step-succeeded")).toHaveLength(4);
    expect(events.filter((t) => t === "nexus.pipeline.succeeded")).toHaveLength(1);
  });

  it("starts a step killed while it executed once more, as attempt 2, and never the finished ones", {
    timeout: 90_000,
  }, async () => {
    const marks = join(dir, "marks");
    const created = await api("POST", "/v1/pipelines", {
      name: "shop-crash-run",
      namespace: "shop",
      source: "staging",
      target: "production",
      steps: [
        { type: "run", name: "first", command: ["sh", "-c", `echo first >> ${marks}`] },
        { type: "run", name: "slow", command: ["sh", "-c", `echo slow >> ${marks}; sleep 2`] },
      ],
    });
    expect(created.status).toBe(201);
    const id = (await api("POST", "/v1/pipelines/shop-crash-run/runs", {})).body.id as string;
    await eventually(
      async () => {
        try {
          return readFileSync(marks, "utf8");
        } catch {
          return "";
        }
      },
      (text) => text.includes("slow"),
    );
    await proc!.kill();
    proc = await startOrchestratorProcess(env());
    // The dead instance's claim expires (2 s), then the restarted one takes the run over.
    await eventually(
      () => runStatus(id),
      (s) => s === "succeeded",
      20_000,
    );
    expect((await steps(id)).map((s) => [s.name, s.status, s.attempts])).toEqual([
      ["first", "succeeded", 1],
      ["slow", "succeeded", 2],
    ]);
    expect(readFileSync(marks, "utf8").trim().split("\n")).toEqual(["first", "slow", "slow"]);
    const attempts = await eventually(
      async () =>
        world.events
          .filter((e) => e.data.runId === id && e.type === "nexus.pipeline.step-started")
          .map((e) => [e.data.step.name, e.data.attempt]),
      (a) => a.length === 3,
    );
    expect(attempts).toEqual([
      ["first", 1],
      ["slow", 1],
      ["slow", 2],
    ]);
  });
});
