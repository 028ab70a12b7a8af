import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_APPLIED } from "@nexus/contracts";
import { createBus, createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitRepo, type GitRepo } from "../../services/config-registry/test/integration/git-repo.js";
import { githubPush } from "../../services/config-registry/test/integration/git-webhooks.js";
import { type ScriptedReceiver, startReceiver } from "../../services/notifier/test/integration/receivers.js";
import { type ScaleOut, startScaleOut } from "../support/scale-out.js";

const SECRET = "scale-push-secret-0123456789";
const REPO = "acme/fleet-config";
/** Parsed JSON of an answer. */
type JsonBody = ReturnType<typeof JSON.parse>;
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as JsonBody });

/**
 * The scale-out scenario beyond writes (scale-out.test.ts): two instances of every service, a Git
 * push whose webhook reaches both registries, a promotion pipeline run, and a backup asked of both
 * backup instances at once. Then instance 1 of every service is SIGKILLed and the survivors do it
 * all again, and take an instance's refusal: a drift finding, a monitor alert and notifications.
 * Every effect happens once: one import per push, one production revision and one attempt per
 * pipeline step per run, one backup per request (the other instance answers 409), one
 * drift.detected and one alert.raised, one delivery id per change notice.
 */
describe("scale-out: Git pushes, drift, alerts, promotions and backups, each once", () => {
  let world: ScaleOut;
  let repo: GitRepo;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [world, repo, hook] = await Promise.all([
      startScaleOut({
        // The registry stores the Git source's webhook secret sealed.
        SECRETS_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        // The notifier may deliver to the local webhook receiver.
        OUTBOUND_ALLOW_HTTP: "true",
        OUTBOUND_ALLOW_ADDRESSES: "127.0.0.1",
        // Quick turns, so the scenario stays short in CI.
        RUN_POLL_MS: "100",
        WATCH_POLL_MS: "100",
        RUN_LEASE_SECONDS: "3",
        EVALUATE_INTERVAL_MS: "200",
        STALE_GRACE_SECONDS: "1",
      }),
      createGitRepo(),
      startReceiver(),
    ]);
  }, 240_000);
  afterAll(async () => {
    await world?.stop();
    await repo?.cleanup();
    await hook?.close();
  });

  /** How many messages the events stream holds on a subject filter (each published once?). */
  const inStream = async (filter: string) => {
    const jsm = await jetstreamManager(world.nats.nc);
    const info = await jsm.streams.info(world.nats.streams.events, {
      subjects_filter: `${world.nats.prefix}.${filter}`,
    });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  };
  const until = async <T>(
    what: string,
    fn: () => Promise<T | undefined | null | false>,
    timeoutMs = 30_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it("does each effect once with both instances up, and again on the survivors after a kill", async () => {
    const { send } = world;
    const url = (name: string, n: 1 | 2) => world.instance(name, n).url;

    // Set-up through instance 1 of each; the rest of the system reads it from the shared stores.
    expect((await send(url("config-registry", 1), "POST", "/v1/namespaces", { name: "fleet" })).status).toBe(
      201,
    );
    for (const [layer, content] of [
      ["base", { app: "fleet", replicas: 1 }],
      ["staging", { replicas: 2 }],
      ["production", { replicas: 3 }],
    ] as const)
      expect(
        (await send(url("config-registry", 1), "PUT", `/v1/namespaces/fleet/layers/${layer}`, content))
          .status,
      ).toBe(200);
    const routing = await send(url("notifier", 1), "PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupWaitMs: 0,
        groupIntervalMs: 0,
        routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" }],
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(routing.status, await routing.clone().text()).toBe(200);
    const rules = await send(url("monitor", 1), "PUT", "/v1/alert-rules", {
      comment: "scale-out scenario",
      rules: [{ name: "fleet-drift", kind: "drift_finding_open", olderThan: "0s", severity: "error" }],
    });
    expect(rules.status, await rules.clone().text()).toBe(200);
    const source = await send(url("config-registry", 1), "POST", "/v1/git-sources", {
      name: "fleet-git",
      provider: "github",
      url: repo.url,
      repository: REPO,
      namespaces: ["fleet"],
      environments: { staging: "main" },
      baseBranch: "main",
      webhookSecret: SECRET,
    });
    expect(source.status, await source.clone().text()).toBe(201);
    const pipeline = await send(url("orchestrator", 1), "POST", "/v1/pipelines", {
      name: "fleet-to-production",
      namespace: "fleet",
      source: "staging",
      target: "production",
      pinnedPaths: [],
      steps: [{ type: "validate" }, { type: "promote" }],
    });
    expect(pipeline.status, await pipeline.clone().text()).toBe(201);

    /** One round of the scenario against the given instances; returns what it created. */
    const round = async (replicas: number, registries: (1 | 2)[], alive: 1 | 2) => {
      // A Git push: the same webhook delivery reaches every listed registry instance.
      const after = await repo.commit(
        { "config/fleet/staging.yaml": `replicas: ${replicas}\n` },
        `r${replicas}`,
      );
      const { before } = await repo.push("main");
      const delivery = await githubPush(
        {
          repository: REPO,
          branch: "main",
          before,
          after,
          commits: [{ id: after, message: `r${replicas}`, modified: ["config/fleet/staging.yaml"] }],
        },
        SECRET,
      );
      const answers = await Promise.all(
        registries.map((n) =>
          fetch(`${url("config-registry", n)}/v1/webhooks/github`, {
            method: "POST",
            headers: delivery.headers,
            body: delivery.body,
          }).then((r) => r.status),
        ),
      );
      expect(
        answers.every((s) => s >= 200 && s < 300),
        String(answers),
      ).toBe(true);
      const imports = async () =>
        (
          (await json(await send(url("config-registry", alive), "GET", "/v1/git-sources/fleet-git/imports")))
            .body.items as unknown as { commit: string; status: string }[]
        ).filter((i) => i.commit === after);
      await until(`the import of ${after}`, async () =>
        (await imports()).some((i) => i.status !== "running"),
      );
      expect(
        (await imports()).map((i) => i.status),
        JSON.stringify(await imports()),
      ).toEqual(["applied"]);

      // A promotion: the run started on the live orchestrator, staging's new content to production.
      const started = await json(
        await send(url("orchestrator", alive), "POST", "/v1/pipelines/fleet-to-production/runs", {}),
      );
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const runId = String((started.body as { id: string }).id);
      const run = await until(`run ${runId}`, async () => {
        const r = (await json(await send(url("orchestrator", alive), "GET", `/v1/runs/${runId}`))).body as {
          status: string;
        };
        return ["succeeded", "failed", "rolled-back"].includes(r.status) ? r : undefined;
      });
      expect(run.status, JSON.stringify(run)).toBe("succeeded");

      // A backup asked of every listed backup instance at once: one takes it, the other says 409.
      const backupAnswers = await Promise.all(
        registries.map((n) => send(url("backup", n), "POST", "/v1/backups", { kind: "full" }).then(json)),
      );
      const taken = backupAnswers.filter((a) => a.status === 202);
      expect(taken, JSON.stringify(backupAnswers)).toHaveLength(1);
      expect(backupAnswers.filter((a) => a.status !== 202).map((a) => a.status)).toEqual(
        registries.length > 1 ? [409] : [],
      );
      const backupId = String(taken[0]?.body?.id);
      const verification = await until(
        `backup ${backupId} verified`,
        async () => {
          const b = (await json(await send(url("backup", alive), "GET", `/v1/backups/${backupId}`))).body;
          return ["verified", "failed"].includes(b.verification) ? String(b.verification) : undefined;
        },
        60_000,
      );
      expect(verification).toBe("verified");
      return { after, runId, backupId, imports };
    };

    const first = await round(5, [1, 2], 1);
    expect(await first.imports(), "one import for a push delivered to both registries").toHaveLength(1);

    // Kill one of each mid-scenario; the survivors run the second round on their own.
    await world.killFirstOfEach();
    const second = await round(6, [2], 2);
    expect(await second.imports()).toHaveLength(1);

    // An instance refuses production's revision (on the survivors): the lease-held reconciler
    // raises one finding, the monitor one alert, the notifier tells the hook once about each.
    const production = await send(
      url("config-registry", 2),
      "GET",
      "/v1/namespaces/fleet/environments/production/resolved",
    );
    const revision = Number(production.headers.get("nexus-revision"));
    const ack = {
      schemaVersion: 1 as const,
      status: "rejected" as const,
      service: "fleet-api",
      instanceId: "fleet-api-1",
      namespace: "fleet",
      environment: "production",
      revision,
      hash: String(production.headers.get("etag")).replaceAll('"', ""),
      reason: "replicas above the node's limit",
      source: "live" as const,
      trigger: "change" as const,
      appliedAt: new Date().toISOString(),
    };
    const bus = createBus({
      nc: world.nats.nc,
      prefix: world.nats.prefix,
      source: "nexus/fleet-api",
      logger: createLogger({ service: "scale-test", level: "silent" }),
    });
    await bus.publish(CONFIG_APPLIED, ack);
    await until("the drift alert raised", async () => (await inStream("alert.raised.>")) >= 1);

    // Exactly once, counted where each effect lands.
    const q = async (sql: string) => (await world.db.pool.query(sql)).rows;
    const revisions = await q(
      "SELECT layer, source, count(*)::int AS n FROM config_registry.revisions WHERE namespace = 'fleet' GROUP BY 1, 2",
    );
    const count = (layer: string, source?: string) =>
      revisions
        .filter((r) => r.layer === layer && (!source || String(r.source).startsWith(source)))
        .reduce((a, r) => a + r.n, 0);
    expect(count("staging", "git:"), `one staging revision per push: ${JSON.stringify(revisions)}`).toBe(2);
    expect(count("production"), `the first write and one per promotion: ${JSON.stringify(revisions)}`).toBe(
      3,
    );
    // The survivors' relays take over the killed instances' leases within their retry interval
    // (2 s): the second round's events may still be on their way. Wait for them, then count.
    await until("both pushes' git.imported", async () => (await inStream("git.imported.>")) >= 2);
    await until("both runs' pipeline.succeeded", async () => (await inStream("pipeline.succeeded.>")) >= 2);
    expect(await inStream("git.imported.>"), "one git.imported per push").toBe(2);
    expect(await inStream("pipeline.succeeded.>"), "one pipeline.succeeded per run").toBe(2);
    const steps = await q("SELECT run_id, idx, status, attempts FROM orchestrator.run_steps");
    expect(steps).toHaveLength(4);
    for (const s of steps)
      expect([s.status, s.attempts], `run ${s.run_id} step ${s.idx}`).toEqual(["succeeded", 1]);
    const backups = await q("SELECT id, status FROM backup.backups ORDER BY id");
    expect(backups.map((b) => b.id).sort()).toEqual([first.backupId, second.backupId].sort());
    expect(await inStream("backup.verified.>"), "one backup.verified per backup").toBe(2);
    expect(await inStream("alert.raised.>"), "one alert.raised for the finding").toBe(1);
    expect(await inStream("drift.detected.>"), "one drift.detected for the refusal").toBe(1);

    // Notifications: every alert and notice told once (one X-Nexus-Delivery id per fingerprint;
    // a copy under the same id after a kill is the documented at-least-once, not a second one).
    await new Promise((r) => setTimeout(r, 1_000));
    const idsByFingerprint = new Map<string, Set<string>>();
    for (const r of hook.requests) {
      const id = String(r.headers["x-nexus-delivery"]);
      for (const a of (r.body as { alerts: { fingerprint: string }[] }).alerts)
        idsByFingerprint.set(a.fingerprint, new Set([...(idsByFingerprint.get(a.fingerprint) ?? []), id]));
    }
    // Notices are sent once, never repeated: one delivery id each. An alert may be told again
    // when its group's message changes (another alert joins it), so for alerts only that they
    // were told is asserted here.
    const fingerprints = [...idsByFingerprint.keys()];
    const notices = fingerprints.filter((f) => f.startsWith("config.changed:fleet:"));
    expect(notices.length, fingerprints.join(", ")).toBeGreaterThan(0);
    for (const f of notices)
      expect(idsByFingerprint.get(f)?.size, `${f} notified under one delivery id`).toBe(1);
    expect(
      fingerprints.filter((f) => f.startsWith("drift:")),
      fingerprints.join(", "),
    ).toHaveLength(1);
  }, 300_000);
});
