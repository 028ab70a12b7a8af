import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectConfig, type NexusConfig } from "@nexus/client";
import { startTracing, type Tracing } from "@nexus/kit";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver } from "../../services/config-registry/test/integration/git-helpers.js";
import { createGitRepo, type GitRepo } from "../../services/config-registry/test/integration/git-repo.js";
import { githubPush } from "../../services/config-registry/test/integration/git-webhooks.js";
import { type Harness as Notifier, startNotifier } from "../../services/notifier/test/integration/harness.js";
import { type ScriptedReceiver, startReceiver } from "../../services/notifier/test/integration/receivers.js";
import { eventually, startWorld, type World } from "../../services/orchestrator/test/integration/harness.js";

const SECRET = "push-secret-0123456789";
const REPO = "acme/shop-config";

/**
 * One trace for a Git push, end to end, on the real registry, drift-detector and notifier (in
 * this process, one in-memory exporter): GitHub's webhook (SERVER) → git.pushed (PRODUCER) → the
 * registry's import (CONSUMER, with its Postgres statements) → config.changed (PRODUCER) → the
 * drift-detector's heads consumer and the notifier's consumer (CONSUMER each), and in each of
 * both SDK instances (@nexus/client, on the same OpenTelemetry API) the receipt of config.changed
 * (CONSUMER) → `apply config` (with the registry's read under it) → the applied-ack (PRODUCER),
 * processed by the drift-detector's inventory consumer: every span in the webhook's trace, each
 * under its cause.
 */
describe("tracing: a Git push through import, config.changed, acks and notification", () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let world: World;
  let notifier: Notifier;
  let hook: ScriptedReceiver;
  let repo: GitRepo;
  let cacheDir: string;
  const instances: NexusConfig<Record<string, unknown>>[] = [];

  beforeAll(async () => {
    tracing = startTracing(
      {
        OTEL_SDK_DISABLED: false,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY: 5_000,
      },
      { service: "git-push-trace-test", spanExporter: exporter },
    );
    expect(tracing.enabled).toBe(true);
    // The instances' acks must land within the grace for the evaluation to find nothing: 300 ms
    // (the harness's) is tight when the machine is loaded.
    world = await startWorld({ staleGraceMs: 3_000 });
    [notifier, hook, repo] = await Promise.all([
      startNotifier({}, { nats: world.registry.nats, issuer: world.issuer }),
      startReceiver(),
      createGitRepo(),
    ]);
    cacheDir = await mkdtemp(join(tmpdir(), "nexus-git-trace-"));
    const routing = await notifier.call("PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupWaitMs: 0,
        // Each change's notice goes out at once, not at the group's next tick.
        groupIntervalMs: 0,
        routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" }],
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(routing.status).toBe(200);
    expect((await world.registryCall("POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    expect(
      (await world.registryCall("PUT", "/v1/namespaces/shop/layers/production", { replicas: 1 })).status,
    ).toBe(200);
    await hook.waitFor(1, 15_000); // the first revision's notice, out of the way of the push's
    const source = await world.registryCall("POST", "/v1/git-sources", {
      name: "shop-git",
      provider: "github",
      url: repo.url,
      repository: REPO,
      namespaces: ["shop"],
      environments: { production: "main" },
      baseBranch: "main",
      webhookSecret: SECRET,
    });
    expect(source.status).toBe(201);
    const token = await world.registry.tokenFor(["viewer:shop:production"], { name: "shop-api" });
    for (const instanceId of ["shop-api-1", "shop-api-2"]) {
      instances.push(
        await connectConfig<Record<string, unknown>>({
          namespace: "shop",
          environment: "production",
          service: "shop-api",
          instanceId,
          url: world.registryUrl,
          token,
          nats: { servers: TEST_NATS_URL },
          subjectPrefix: world.registry.nats.prefix,
          cacheFile: join(cacheDir, `${instanceId}.json`),
        }),
      );
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.close()));
    await notifier?.close();
    await world?.close();
    await hook?.close();
    await repo?.cleanup();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    await tracing?.shutdown();
  });

  it("puts the webhook, the import, the event, its consumers and every instance's ack in one span tree", async () => {
    const after = await repo.commit({ "config/shop/production.yaml": "replicas: 4\n" }, "Four replicas");
    const { before } = await repo.push("main");
    exporter.reset();
    const delivery = await githubPush(
      { repository: REPO, branch: "main", before, after, commits: [{ id: after, message: "Four replicas" }] },
      SECRET,
    );
    expect((await deliver(world.registry, "github", delivery)).status).toBe(202);
    await eventually(
      async () => instances.map((i) => i.get().replicas),
      (r) => r.every((n) => n === 4),
      20_000,
    );
    await hook.waitFor(2, 15_000);

    const spans = () => exporter.getFinishedSpans();
    const byId = (id: string | undefined) => spans().find((s) => s.spanContext().spanId === id);
    const parentOf = (s: ReadableSpan | undefined) => byId(s?.parentSpanContext?.spanId);
    const named = (kind: SpanKind, subjectPart: string, group?: string) =>
      spans().filter(
        (s) =>
          s.kind === kind &&
          String(s.attributes["messaging.destination.name"]).includes(subjectPart) &&
          (group === undefined || s.attributes["messaging.consumer.group.name"] === group),
      );
    const listing = () =>
      spans()
        .map((s) => `${SpanKind[s.kind]} ${s.name}`)
        .join("\n");

    // Wait for both acks' processing to finish (the detector batches them).
    await expect
      .poll(() => named(SpanKind.CONSUMER, ".config.applied.production.shop", "drift-inventory").length, {
        timeout: 15_000,
      })
      .toBeGreaterThanOrEqual(2);

    const webhook = spans().find((s) => s.kind === SpanKind.SERVER && s.name === "POST /v1/webhooks/github");
    expect(webhook, listing()).toBeDefined();
    const traceId = webhook?.spanContext().traceId;

    const pushed = named(SpanKind.PRODUCER, ".git.pushed.")[0];
    expect(pushed, listing()).toBeDefined();
    expect(parentOf(pushed)).toBe(webhook);

    const imports = named(SpanKind.CONSUMER, ".git.pushed.").filter((s) => parentOf(s) === pushed);
    expect(imports.length, listing()).toBeGreaterThan(0);

    const changed = named(SpanKind.PRODUCER, ".config.changed.production.shop");
    expect(changed, listing()).toHaveLength(1);
    const change = changed[0] as ReadableSpan;
    expect(change.spanContext().traceId).toBe(traceId);
    // The import wrote the change: the publish descends from the git.pushed consumer.
    const ancestors = (s: ReadableSpan | undefined): ReadableSpan[] => {
      const out: ReadableSpan[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) out.push(p);
      return out;
    };
    expect(
      ancestors(change).some((a) => imports.includes(a)),
      listing(),
    ).toBe(true);
    // The import's SQL is in the trace, under the import.
    const importSql = spans().filter(
      (s) =>
        s.kind === SpanKind.CLIENT &&
        s.attributes["db.system.name"] === "postgresql" &&
        ancestors(s).some((a) => imports.includes(a)),
    );
    expect(importSql.length).toBeGreaterThan(0);

    // Consumers of the change: the drift-detector (one durable for heads, policies and source drift) and the notifier (which notified).
    // Their spans end when their batches are acknowledged, which nothing above waits for: the
    // instances' acks (no rollout question before applying) can be processed first.
    await expect
      .poll(() => named(SpanKind.CONSUMER, ".config.changed.production.shop", "drift-changes").length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    await expect
      .poll(
        () =>
          named(SpanKind.CONSUMER, ".config.changed.production.shop").filter(
            (s) => s.attributes["messaging.consumer.group.name"] !== "drift-changes",
          ).length,
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    const heads = named(SpanKind.CONSUMER, ".config.changed.production.shop", "drift-changes");
    expect(heads.map(parentOf)).toEqual([change]);
    const notices = named(SpanKind.CONSUMER, ".config.changed.production.shop").filter(
      (s) => s.attributes["messaging.consumer.group.name"] !== "drift-changes" && parentOf(s) === change,
    );
    expect(notices.length, listing()).toBeGreaterThan(0);
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1]?.body).toMatchObject({ alerts: [expect.objectContaining({ status: "notice" })] });

    // Each SDK instance, once: its receipt of config.changed (a child of the publish), one pass
    // that applied it (with the registry's read of the document under it), its applied-ack
    // (PRODUCER, a child of that pass), and the detector's processing of exactly that ack.
    const acks = named(SpanKind.CONSUMER, ".config.applied.production.shop", "drift-inventory");
    expect(acks.length).toBeGreaterThanOrEqual(2);
    for (const ack of acks) expect(ack.spanContext().traceId).toBe(traceId);
    expect(new Set(acks.map((a) => a.attributes["messaging.message.id"])).size).toBe(acks.length);
    const sdkSpans = (instanceId: string) =>
      spans().filter(
        (s) =>
          s.instrumentationScope.name === "@nexus/client" &&
          s.attributes["nexus.instance.id"] === instanceId &&
          s.spanContext().traceId === traceId,
      );
    for (const instanceId of ["shop-api-1", "shop-api-2"]) {
      const mine = sdkSpans(instanceId);
      const receipts = mine.filter((s) => s.kind === SpanKind.CONSUMER);
      expect(receipts, listing()).toHaveLength(1);
      const receipt = receipts[0] as ReadableSpan;
      expect(parentOf(receipt)).toBe(change);
      expect(receipt.name).toBe(`process ${change.attributes["messaging.destination.name"]}`);
      expect(receipt.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": change.attributes["messaging.destination.name"],
        "messaging.message.id": change.attributes["messaging.message.id"],
        "nexus.service": "shop-api",
        "nexus.config.decision": "fetch",
      });
      const passes = mine.filter((s) => s.name === "apply config");
      for (const pass of passes) expect(parentOf(pass)).toBe(receipt);
      const applied = passes.filter((s) => s.attributes["nexus.config.outcome"] === "applied");
      expect(applied, listing()).toHaveLength(1);
      const apply = applied[0] as ReadableSpan;
      const read = spans().filter((s) => s.kind === SpanKind.SERVER && parentOf(s) === apply);
      expect(read.map((s) => s.name)).toEqual(["GET /v1/namespaces/:ns/environments/:env/resolved"]);
      const sends = mine.filter((s) => s.kind === SpanKind.PRODUCER);
      expect(sends, listing()).toHaveLength(1);
      const send = sends[0] as ReadableSpan;
      expect(parentOf(send)).toBe(apply);
      expect(send.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.destination.name": expect.stringContaining(".config.applied.production.shop"),
        "nexus.config.status": "applied",
      });
      expect(acks.filter((a) => parentOf(a) === send)).toHaveLength(1);
    }

    // The notification's delivery: one attempt, a span of its own under the notifier's consumer
    // (the alert it sends remembers that trace), however late the worker sends it.
    const deliveries = () => spans().filter((s) => s.name === "deliver webhook");
    await expect.poll(() => deliveries().length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(deliveries(), listing()).toHaveLength(1);
    const sent = deliveries()[0] as ReadableSpan;
    expect(sent.kind).toBe(SpanKind.CLIENT);
    expect(sent.spanContext().traceId).toBe(traceId);
    expect(notices).toContain(parentOf(sent));
    expect(sent.attributes).toMatchObject({
      "nexus.receiver.name": "hook",
      "nexus.delivery.attempt": 1,
      "nexus.delivery.outcome": "delivered",
    });

    // The drift-detector's lease-held reconciler judges the change once its grace has passed, in
    // the change's trace (a child of the config.changed publish), once: both instances converged.
    const evaluations = () =>
      // This change's: the set-up write's own evaluation may come late, in its own trace.
      spans().filter((s) => s.name === "evaluate drift" && s.spanContext().traceId === traceId);
    await expect.poll(() => evaluations().length, { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500)); // a few more passes: none judges it again
    expect(evaluations(), listing()).toHaveLength(1);
    const evaluation = evaluations()[0] as ReadableSpan;
    expect(evaluation.spanContext().traceId).toBe(traceId);
    expect(parentOf(evaluation)).toBe(change);
    expect(evaluation.attributes).toMatchObject({
      "nexus.namespace": "shop",
      "nexus.environment": "production",
      "nexus.revision": expect.any(Number),
      "nexus.drift.findings_opened": 0,
    });
  }, 60_000);
});
