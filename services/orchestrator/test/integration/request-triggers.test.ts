import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CONFIG_CHANGE_REQUESTED,
  type ConfigChangeRequested,
  GIT_PUSHED,
  type GitPushed,
} from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, sleep, startWorld, type World } from "./harness.js";

/**
 * Change requests and Git pushes start runs: real events through the kit bus, two orchestrators
 * consuming them, each event starting one run however often it is delivered.
 */
describe("change-request and git-push triggers", () => {
  let world: World;
  const repo = mkdtempSync(join(tmpdir(), "nexus-orchestrator-git-"));
  let sourceId = "";

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    // A real (empty) repository for the registry's Git source; the pushes below are its events.
    execFileSync("git", ["init", "--bare", "-q", "-b", "main", repo]);
    const source = await world.registryCall("POST", "/v1/git-sources", {
      name: "shop-repo",
      provider: "gitea",
      url: `file://${repo}`,
      repository: "acme/shop-config",
      namespaces: ["shop"],
      environments: { development: "develop" },
    });
    expect(source.status).toBe(201);
    sourceId = source.body.id;
    await world.startOrchestrator();
    await world.startOrchestrator();
  });
  afterAll(async () => {
    await world?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const runsOf = async (pipeline: string) =>
    (await world.call("GET", `/v1/runs?pipeline=${pipeline}`)).body.items as {
      id: string;
      status: string;
      trigger: string;
      triggerDetail: string | null;
      startedBy: string;
      sourceRevision: number;
    }[];

  /** The same event (same id) delivered again: a new NATS message id, as a relay's re-publish would be. */
  const redeliver = async (type: string, data: unknown) => {
    const bus = world.registry.nats.bus;
    const envelope = bus.envelope(type as typeof GIT_PUSHED, data as GitPushed);
    const subject = bus.subjectFor(type as typeof GIT_PUSHED, data as GitPushed);
    await bus.publishEnvelope(subject, envelope);
    await bus.publishSerialized(subject, `again-${envelope.id}`, JSON.stringify(envelope));
    return envelope.id;
  };

  it("refuses trigger definitions it cannot honour, naming the field", async () => {
    const base = { namespace: "shop", source: "staging", target: "production" };
    const noApproval = await world.call("POST", "/v1/pipelines", {
      ...base,
      name: "cr-without-approval",
      triggers: [{ type: "manual" }, { type: "change-request" }],
      steps: [{ type: "promote" }],
    });
    expect(noApproval.status).toBe(400);
    expect(noApproval.body.error.field).toBe("triggers[1].type");
    const noSource = await world.call("POST", "/v1/pipelines", {
      ...base,
      name: "push-without-source",
      triggers: [{ type: "git-push", branch: "main" }],
      steps: [{ type: "approve" }],
    });
    expect(noSource.status).toBe(400);
    expect(noSource.body.error.field).toBe("triggers[0].source");
    const badBranch = await world.call("POST", "/v1/pipelines", {
      ...base,
      name: "push-bad-branch",
      triggers: [{ type: "git-push", source: "shop-repo", branch: "main branch" }],
      steps: [{ type: "approve" }],
    });
    expect(badBranch.status).toBe(400);
    expect(badBranch.body.error.field).toBe("triggers[0].branch");
  });

  it("starts one run for a change request to the target; it is the change's approval path", async () => {
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-cr-to-production",
      namespace: "shop",
      source: "staging",
      target: "production",
      pinnedPaths: ["/db/host", "/replicas"],
      triggers: [{ type: "change-request" }],
      steps: [{ type: "approve" }, { type: "promote" }],
    });
    expect(created.status).toBe(201);
    const request = (over: Partial<ConfigChangeRequested>): ConfigChangeRequested => ({
      schemaVersion: 1,
      changeRequestId: randomUUID(),
      namespace: "shop",
      layer: "production",
      environments: ["production"],
      baseRevision: 1,
      author: "alice",
      message: "turn checkout on in production",
      ...over,
    });

    // Not for this pipeline: another environment, another namespace.
    await world.publish(CONFIG_CHANGE_REQUESTED, request({ layer: "staging", environments: ["staging"] }));
    await world.publish(CONFIG_CHANGE_REQUESTED, request({ namespace: "other" }));
    const cr = request({});
    await redeliver(CONFIG_CHANGE_REQUESTED, cr);

    const [run] = await eventually(
      () => runsOf("shop-cr-to-production"),
      (r) => r.length >= 1 && r[0]?.status === "awaiting-approval",
    );
    const staging = (await world.registryCall("GET", "/v1/namespaces/shop/layers/staging")).body;
    expect(run).toMatchObject({
      trigger: "config.change-requested",
      triggerDetail: `change request ${cr.changeRequestId}`,
      startedBy: "alice",
      sourceRevision: staging.revision,
    });

    // A later change request is the barrier: once its run exists, the redelivery was handled too.
    await world.publish(CONFIG_CHANGE_REQUESTED, request({}));
    await eventually(
      () => runsOf("shop-cr-to-production"),
      (r) => r.length >= 2,
    );
    await sleep(1_000);
    expect(await runsOf("shop-cr-to-production")).toHaveLength(2);

    // The run is the approval: an approver other than the author lets it promote.
    expect((await world.call("POST", `/v1/runs/${run!.id}/approve`, {}, world.tokens.bob)).status).toBe(200);
    await eventually(
      () => world.call("GET", `/v1/runs/${run!.id}`).then((r) => r.body),
      (r) => r.status === "succeeded",
    );
    expect((await world.registryCall("GET", "/v1/namespaces/shop/layers/production")).body.content).toEqual({
      db: { host: "prod-db" },
      replicas: 8,
      checkout: { enabled: true },
    });
  });

  it("starts one run for a push to a matching branch of the named Git source", async () => {
    const created = await world.call("POST", "/v1/pipelines", {
      name: "shop-release-push",
      namespace: "shop",
      source: "staging",
      target: "production",
      triggers: [{ type: "git-push", source: "shop-repo", branch: "release/*" }],
      steps: [{ type: "approve" }],
    });
    expect(created.status).toBe(201);
    const byId = await world.call("POST", "/v1/pipelines", {
      name: "shop-main-push-by-id",
      namespace: "shop",
      source: "staging",
      target: "production",
      triggers: [{ type: "git-push", source: sourceId, branch: "main" }],
      steps: [{ type: "approve" }],
    });
    expect(byId.status).toBe(201);
    const push = (over: Partial<GitPushed>): GitPushed => ({
      schemaVersion: 1,
      sourceId,
      provider: "gitea",
      repository: "acme/shop-config",
      ref: "refs/heads/release/2026.12",
      before: "0".repeat(40),
      after: randomBytes(20).toString("hex"),
      changedFiles: null,
      deliveryId: randomUUID(),
      ...over,
    });

    // Not for the release pipeline: another branch (the by-id pipeline's), a branch `*` does not
    // reach, a tag, another source.
    await world.publish(GIT_PUSHED, push({ ref: "refs/heads/main" }));
    await world.publish(GIT_PUSHED, push({ ref: "refs/heads/release/2026/12" }));
    await world.publish(GIT_PUSHED, push({ ref: "refs/tags/release/2026.12" }));
    await world.publish(GIT_PUSHED, push({ sourceId: randomUUID() }));
    const pushed = push({});
    await redeliver(GIT_PUSHED, pushed);

    const [run] = await eventually(
      () => runsOf("shop-release-push"),
      (r) => r.length >= 1,
    );
    expect(run).toMatchObject({
      trigger: "git.pushed",
      triggerDetail: `push to shop-repo@release/2026.12 (${pushed.after.slice(0, 12)})`,
      startedBy: "git:acme/shop-config",
    });

    await world.publish(GIT_PUSHED, push({ ref: "refs/heads/release/2027.01" }));
    await eventually(
      () => runsOf("shop-release-push"),
      (r) => r.length >= 2,
    );
    await sleep(1_000);
    const runs = await runsOf("shop-release-push");
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.triggerDetail)).toEqual(
      expect.arrayContaining([
        `push to shop-repo@release/2026.12 (${pushed.after.slice(0, 12)})`,
        expect.stringContaining("push to shop-repo@release/2027.01"),
      ]),
    );
    const [main, ...more] = await runsOf("shop-main-push-by-id");
    expect(more).toEqual([]);
    expect(main?.triggerDetail).toMatch(/^push to shop-repo@main \(/);

    // An event that carries its source's name is matched by it without asking the registry (whose
    // Git source list needs an admin token): here a source id the registry does not know.
    await world.publish(
      GIT_PUSHED,
      push({ sourceId: randomUUID(), sourceName: "shop-repo", ref: "refs/heads/release/2027.02" }),
    );
    const third = await eventually(
      () => runsOf("shop-release-push"),
      (r) => r.length >= 3,
    );
    expect(third.map((r) => r.triggerDetail)).toContainEqual(
      expect.stringContaining("push to shop-repo@release/2027.02"),
    );
  });
});
