import { GitResyncReply, gitResyncSubject } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importsOf } from "./git-helpers.js";
import { createGitRepo, type GitRepo } from "./git-repo.js";
import { call, type Harness, startRegistry } from "./harness.js";

describe("nexus.git.cmd.resync", () => {
  let h: Harness;
  let repo: GitRepo;
  const resync = (subjectSource: string, body: Record<string, unknown>) =>
    h.nats.bus.requestCommand(
      gitResyncSubject({ source: subjectSource }),
      { schemaVersion: 1, requestedBy: "test", ...body },
      GitResyncReply,
      10_000,
    );

  beforeAll(async () => {
    h = await startRegistry();
    repo = await createGitRepo();
    await call(h, "POST", "/v1/namespaces", { name: "shop" });
    await repo.commit({ "config/shop/production.yaml": "pool: 20\n" }, "First");
    await repo.push("main");
    const created = await call(h, "POST", "/v1/git-sources", {
      name: "acme",
      provider: "github",
      url: repo.url,
      repository: "acme/config",
      namespaces: ["shop"],
      environments: { production: "main" },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    await repo?.cleanup();
  });

  it("imports the branch heads like the HTTP resync", async () => {
    const reply = await resync("acme", { source: "acme" });
    expect(reply).toMatchObject({ ok: true, results: [{ branch: "main", status: "applied" }] });
    const layer = await call(h, "GET", "/v1/namespaces/shop/layers/production");
    expect(layer.body.content).toEqual({ pool: 20 });
    expect((await importsOf(h, "acme"))[0]).toMatchObject({ trigger: "resync", status: "applied" });
  });

  it("refuses a body naming another source than the subject, an unknown source and a branch not followed", async () => {
    expect(await resync("acme", { source: "other" })).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "source" },
    });
    expect(await resync("nope", { source: "nope" })).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "git_source_not_found" },
    });
    expect(await resync("acme", { source: "acme", branch: "staging" })).toMatchObject({
      ok: false,
      error: { statusCode: 422, code: "branch_not_followed", field: "branch" },
    });
  });
});
