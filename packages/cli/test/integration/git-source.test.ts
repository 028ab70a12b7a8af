/** `nexus git-source`: bind a namespace to a real local repository, resync it, read what happened. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createGitRepo,
  type GitRepo,
} from "../../../../services/config-registry/test/integration/git-repo.js";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus git-source", () => {
  let env: CliEnvironment;
  let repo: GitRepo;

  beforeAll(async () => {
    env = await startCliEnvironment();
    repo = await createGitRepo();
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
  });
  afterAll(async () => {
    await env?.close();
    await repo?.cleanup();
  });

  it("creates a source with the webhook secret read from the environment, never from argv", async () => {
    const r = await env.run(
      [
        "git-source",
        "create",
        "shop-config",
        "--provider",
        "gitea",
        "--repo-url",
        repo.url,
        "--namespace",
        "shop",
        "--env",
        "production=main",
        "--env",
        "staging=staging",
        "--webhook-secret-env",
        "SHOP_HOOK_SECRET",
      ],
      { env: { SHOP_HOOK_SECRET: "a-very-secret-value" } },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("created Git source shop-config");
    expect(r.stdout).toContain("webhook set");
    expect(r.stdout).not.toContain("a-very-secret-value");
    const missing = await env.run([
      "git-source",
      "create",
      "x",
      "--provider",
      "gitea",
      "--repo-url",
      repo.url,
      "--namespace",
      "shop",
      "--env",
      "production=main",
      "--webhook-secret-env",
      "UNSET_VAR",
    ]);
    expect(missing.code).toBe(2);
  });

  it("resyncs, shows the imported commit per layer, and lists imports with failures", async () => {
    const good = await repo.commit({ "config/shop/production.yaml": "currency: EUR\n" }, "EUR");
    await repo.push("main");
    const resync = await env.run(["git-source", "resync", "shop-config", "--branch", "main"]);
    expect(resync.stdout).toContain(`main: applied at ${good.slice(0, 12)}`);
    expect((await call(env.registry, "GET", "/v1/namespaces/shop/layers/production")).body.content).toEqual({
      currency: "EUR",
    });
    const show = await env.run(["git-source", "show", "shop-config"]);
    expect(show.stdout).toMatch(
      new RegExp(`shop/production {2}<- config/shop/production.yaml@main {2}imported ${good.slice(0, 12)}`),
    );

    await repo.commit({ "config/shop/production.yaml": "currency: [\n" }, "broken");
    await repo.push("main");
    const failed = await env.run(["git-source", "resync", "shop-config", "--branch", "main"]);
    expect(failed.code).toBe(1);
    const imports = await env.run(["git-source", "imports", "shop-config"]);
    expect(imports.stdout).toMatch(/config\/shop\/production.yaml:\d+ {2}malformed YAML/);
    const json = JSON.parse((await env.run(["git-source", "list", "--json"])).stdout);
    expect(json.sources[0]).toMatchObject({ name: "shop-config", provider: "gitea", hasWebhookSecret: true });
  });
});
