import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitRepo, type GitRepo } from "../../../config-registry/test/integration/git-repo.js";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, type JsonBody, sleep, startWorld, type World, watchDriftEvents } from "./harness.js";

describe("source drift: a Git-bound layer that differs from its Git source", () => {
  let w: World;
  let repo: GitRepo;
  let watch: Awaited<ReturnType<typeof watchDriftEvents>>;

  const sourceFinding = async () => {
    const res = await w.call("GET", "/v1/findings?namespace=shop&kind=source&status=all");
    expect(res.status).toBe(200);
    return (res.body.items as JsonBody[]).filter((f) => f.environment === "production");
  };
  const active = () => sourceFinding().then((all) => all.filter((f) => f.status !== "resolved"));
  const layer = async () => (await call(w.registry, "GET", "/v1/namespaces/shop/layers/production")).body;
  /** Commit, push, and import the branch head like an operator's resync. */
  const pushAndImport = async (files: Record<string, string>, message: string) => {
    await repo.commit(files, message);
    await repo.push("main");
    const res = await call(w.registry, "POST", "/v1/git-sources/acme/resync", {});
    expect(res.status).toBe(200);
    return res.body.results[0];
  };
  const override = async (content: unknown) => {
    const res = await call(w.registry, "PUT", "/v1/namespaces/shop/layers/production?override=git", content);
    expect(res.status).toBe(200);
    return res.body.revision as number;
  };
  const detected = () => watch.of("nexus.drift.detected", (d) => d.kind === "source");
  const resolved = () => watch.of("nexus.drift.resolved", (d) => d.kind === "source");

  beforeAll(async () => {
    w = await startWorld();
    watch = await watchDriftEvents(w.registry.nats.bus);
    repo = await createGitRepo();
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    const created = await call(w.registry, "POST", "/v1/git-sources", {
      name: "acme",
      provider: "github",
      url: repo.url,
      repository: "acme/config",
      namespaces: ["shop"],
      environments: { production: "main" },
      baseBranch: "main",
    });
    expect(created.status).toBe(201);
    const first = await pushAndImport(
      { "config/shop/base.yaml": "pool: 10\n", "config/shop/production.yaml": "pool: 20\n" },
      "First",
    );
    expect(first.status).toBe("applied");
  });
  afterAll(async () => {
    await watch?.stop();
    await w?.close();
    await repo?.cleanup();
  });

  it("an API override opens one source finding naming who overrode it; an import of the layer resolves it", async () => {
    const gitRevision = (await layer()).revision as number;
    const overrideRevision = await override({ pool: 99 });
    const [finding] = await eventually(active, (f) => f.length === 1);
    expect(finding).toMatchObject({
      kind: "source",
      namespace: "shop",
      environment: "production",
      service: null,
      instanceIds: [],
      severity: "warning",
      expected: { revision: gitRevision },
      actual: { revision: overrideRevision },
    });
    expect(finding.summary).toContain("Git override");
    expect(finding.reason).toMatch(/^overridden by /);
    await override({ pool: 98 });
    await eventually(active, (f) => f[0]?.actual.revision === overrideRevision + 1);
    await eventually(
      async () => detected(),
      (d) => d.length >= 1,
    );
    expect(detected()).toHaveLength(1);

    expect((await pushAndImport({ "config/shop/production.yaml": "pool: 30\n" }, "Raise pool")).status).toBe(
      "applied",
    );
    const [done] = await eventually(sourceFinding, (f) => f[0]?.status === "resolved");
    expect(done.resolution).toMatch(/Git (wrote|source acme imported)/);
    await eventually(
      async () => resolved(),
      (r) => r.length === 1,
    );
    expect(resolved()[0]!.data.findingId).toBe(finding.id);
  });

  it("a failed import opens a source finding for the layer it could not write; a fixed head resolves it", async () => {
    const failed = await pushAndImport({ "config/shop/production.yaml": "pool: [30\n" }, "Broken YAML");
    expect(failed.status).toBe("failed");
    const [finding] = await eventually(active, (f) => f.length === 1);
    expect(finding.summary).toContain("failed");
    expect(finding.summary).toContain("acme");
    expect((await layer()).content).toEqual({ pool: 30 });

    expect((await pushAndImport({ "config/shop/production.yaml": "pool: 40\n" }, "Fix")).status).toBe(
      "applied",
    );
    await eventually(active, (f) => f.length === 0);
    await eventually(
      async () => resolved(),
      (r) => r.length === 2,
    );
  });

  it("report mode records the override and leaves the layer alone", async () => {
    await override({ pool: 1 });
    await eventually(active, (f) => f.length === 1);
    await sleep(1_000); // several reconcile passes
    expect((await layer()).content).toEqual({ pool: 1 });
    const modes = await w.call("GET", "/v1/namespaces/shop/environments/production/remediation");
    expect(modes.body).toMatchObject({ mode: "report", remediations: [] });
    expect(watch.of("nexus.drift.remediation-requested")).toHaveLength(0);
  });

  it("remediate mode re-imports the Git head: the layer holds Git's content again and the finding resolves", async () => {
    const [finding] = await active();
    expect(
      (await w.call("PUT", "/v1/namespaces/shop/environments/production/remediation", { mode: "remediate" }))
        .status,
    ).toBe(200);
    await eventually(layer, (l) => l.content?.pool === 40);
    const [done] = await eventually(
      async () => (await sourceFinding()).filter((f) => f.id === finding.id),
      (f) => f[0]?.status === "resolved",
    );
    expect(done.remediationAttempts).toBe(1);
    await eventually(
      async () => watch.of("nexus.drift.remediation-requested", (d) => d.findingId === finding.id),
      (r) => r.length === 1,
    );
    expect(watch.of("nexus.drift.remediation-requested")[0]!.data).toMatchObject({
      action: "reimport",
      gitSource: "acme",
      branch: "main",
      service: null,
      instanceId: null,
    });
    const modes = await w.call("GET", "/v1/namespaces/shop/environments/production/remediation");
    expect(modes.body.remediations[0]).toMatchObject({
      action: "reimport",
      gitSource: "acme",
      findingId: finding.id,
    });
  });

  it("a head that keeps failing to import escalates after the last attempt instead of looping", async () => {
    const failed = await pushAndImport({ "config/shop/production.yaml": "pool: [50\n" }, "Broken again");
    expect(failed.status).toBe("failed");
    const [escalated] = await eventually(active, (f) => f[0]?.escalatedAt != null);
    expect(escalated).toMatchObject({ severity: "critical", remediationAttempts: 2 });
    await eventually(
      async () => watch.of("nexus.drift.escalated", (d) => d.kind === "source"),
      (e) => e.length === 1,
    );
    expect((await layer()).content).toEqual({ pool: 40 });
  });
});
