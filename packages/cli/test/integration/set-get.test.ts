import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus set / get / schema", () => {
  let env: CliEnvironment;
  const file = (name: string) => join(env.dir, name);

  beforeAll(async () => {
    env = await startCliEnvironment({ tokenOwner: "ann" });
    // The token is ann's: she is the author of every write below.
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
  });
  afterAll(async () => env?.close());

  it("writes a layer from a YAML file with a message and the author", async () => {
    await writeFile(file("base.yaml"), "database:\n  host: db\n  pool: 10\nlog_level: info\nflags: [a, b]\n");
    const r = await env.run(["set", "shop", "base", "-f", file("base.yaml"), "-m", "first cut"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "shop/base: revision 1 (was 0); resolved config changed in development, staging, production\n",
    );

    const rev = await call(env.registry, "GET", "/v1/namespaces/shop/layers/base/revisions/1");
    expect(rev.body).toMatchObject({ author: "ann", message: "first cut", source: "api" });
    expect(rev.body.content).toEqual({
      database: { host: "db", pool: 10 },
      log_level: "info",
      flags: ["a", "b"],
    });
  });

  it("writes layers from JSON and .env files and from stdin", async () => {
    await writeFile(file("prod.json"), JSON.stringify({ database: { pool: 50 } }));
    const json = await env.run(["set", "shop", "production", "-f", file("prod.json"), "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      namespace: "shop",
      layer: "production",
      revision: 2,
      previousRevision: 0,
      changed: true,
      changedEnvironments: ["production"],
    });

    await writeFile(file("dev.env"), "LOG_LEVEL=debug\nFEATURE_X=on\n");
    expect((await env.run(["set", "shop", "development", "-f", file("dev.env")])).code).toBe(0);
    const dev = await call(env.registry, "GET", "/v1/namespaces/shop/layers/development");
    expect(dev.body.content).toEqual({ LOG_LEVEL: "debug", FEATURE_X: "on" });

    const stdin = await env.run(["set", "shop", "staging", "-f", "-"], { stdin: "database:\n  pool: 20\n" });
    expect(stdin.code).toBe(0);
    const staging = await call(env.registry, "GET", "/v1/namespaces/shop/layers/staging");
    expect(staging.body.content).toEqual({ database: { pool: 20 } });

    const envStdin = await env.run(["set", "shop", "staging", "-f", "-", "--format", "env"], {
      stdin: "A=1\n",
    });
    expect(envStdin.code).toBe(0);
    expect((await call(env.registry, "GET", "/v1/namespaces/shop/layers/staging")).body.content).toEqual({
      A: "1",
    });
  });

  it("says so when the content did not change, and writes no revision", async () => {
    const before = await call(env.registry, "GET", "/v1/namespaces/shop/layers/base/revisions");
    const r = await env.run(["set", "shop", "base", "-f", file("base.yaml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("unchanged (the content equals revision 1); nothing written");
    const after = await call(env.registry, "GET", "/v1/namespaces/shop/layers/base/revisions");
    expect(after.body.items).toHaveLength(before.body.items.length);
  });

  it("prints the resolved configuration as YAML (default), JSON and .env", async () => {
    const yaml = await env.run(["get", "shop", "production"]);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout.split("\n")[0]).toMatch(/^# shop\/production · revision 2 · sha256 [0-9a-f]{12}$/);
    const expected = { database: { host: "db", pool: 50 }, log_level: "info", flags: ["a", "b"] };
    expect(parseYaml(yaml.stdout)).toEqual(expected);

    const json = await env.run(["get", "shop", "production", "--format", "json"]);
    expect(JSON.parse(json.stdout)).toEqual(expected);

    const dotenv = await env.run(["get", "shop", "production", "--format", "env"]);
    expect(parseDotenv(dotenv.stdout)).toEqual({
      DATABASE_HOST: "db",
      DATABASE_POOL: "50",
      LOG_LEVEL: "info",
      FLAGS: '["a","b"]',
    });

    const api = await env.run(["--json", "get", "shop", "production"]);
    const body = JSON.parse(api.stdout);
    expect(body).toMatchObject({
      namespace: "shop",
      environment: "production",
      revision: 2,
      content: expected,
    });
    expect(body.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("explains where each value comes from", async () => {
    const r = await env.run(["get", "shop", "production", "--explain"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/database\/host\s+"db"\s+base\s+1\s*$/m);
    expect(r.stdout).toMatch(/^\/database\/pool\s+50\s+production\s+2\s*$/m);

    const both = await env.run(["get", "shop", "production", "--explain", "--format", "yaml"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("leave out --format");

    const json = await env.run(["get", "shop", "production", "--explain", "--json"]);
    expect(JSON.parse(json.stdout).explain["/database/pool"]).toMatchObject({
      layer: "production",
      revision: 2,
      value: 50,
    });
  });

  it("prints the configuration as of an older revision with --revision", async () => {
    const r = await env.run(["get", "shop", "production", "--revision", "1", "--format", "json"]);
    expect(r.code).toBe(0);
    // Revision 1 wrote the base layer only: production as of then is the base's content.
    const base = await call(env.registry, "GET", "/v1/namespaces/shop/layers/base/revisions/1");
    expect(JSON.parse(r.stdout)).toEqual(base.body.content);
    const api = await env.run(["--json", "get", "shop", "production", "--revision", "1"]);
    expect(JSON.parse(api.stdout)).toMatchObject({ revision: 1, content: base.body.content });
    const ahead = await env.run(["get", "shop", "production", "--revision", "99"]);
    expect(ahead.code).not.toBe(0);
    expect(ahead.stderr).toContain("revision_not_found");
  });

  it("refuses a stale --if-match with exit 3 and stores nothing", async () => {
    await writeFile(file("base2.yaml"), "database:\n  host: db2\n");
    const stale = await env.run(["set", "shop", "base", "-f", file("base2.yaml"), "--if-match", "7"]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("code revision_conflict, HTTP 409");
    expect(stale.stderr).toContain("field: If-Match");
    expect((await call(env.registry, "GET", "/v1/namespaces/shop/layers/base")).body.revision).toBe(1);

    const fresh = await env.run(["set", "shop", "base", "-f", file("base2.yaml"), "--if-match", "1"]);
    expect(fresh.code).toBe(0);
    expect((await call(env.registry, "GET", "/v1/namespaces/shop/layers/base")).body.content).toEqual({
      database: { host: "db2" },
    });
    // Put the first base back for the tests below.
    expect((await env.run(["set", "shop", "base", "-f", file("base.yaml")])).code).toBe(0);
  });

  it("sets and shows the schema; a write that breaks it exits 4 naming the JSON pointer", async () => {
    const schema = {
      type: "object",
      properties: { database: { type: "object", properties: { pool: { type: "integer", maximum: 100 } } } },
    };
    await writeFile(file("schema.json"), JSON.stringify(schema));
    const set = await env.run(["schema", "set", "shop", "-f", file("schema.json")]);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^Schema of shop set \(sha256 [0-9a-f]{12}\)\n$/);

    const shown = await env.run(["schema", "show", "shop"]);
    expect(JSON.parse(shown.stdout)).toEqual(schema);
    const yaml = await env.run(["schema", "show", "shop", "--format", "yaml"]);
    expect(parseYaml(yaml.stdout)).toEqual(schema);
    expect(JSON.parse((await env.run(["schema", "show", "shop", "--json"])).stdout)).toMatchObject({
      namespace: "shop",
      schema,
      updatedBy: "ann",
    });

    const r = await env.run(["set", "shop", "production", "-f", "-"], { stdin: "database:\n  pool: 500\n" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("field: /database/pool");
    expect(r.stderr).toContain("code schema_violation, HTTP 422");
    expect((await call(env.registry, "GET", "/v1/namespaces/shop/layers/production")).body.content).toEqual({
      database: { pool: 50 },
    });
  });

  it("refuses a schema the current configuration breaks (exit 4)", async () => {
    await writeFile(file("strict.yaml"), "type: object\nrequired: [missing_key]\n");
    const r = await env.run(["schema", "set", "shop", "-f", file("strict.yaml")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("missing_key");
  });

  it("exits 4 for a document that does not parse, with the line", async () => {
    await writeFile(file("broken.yaml"), "a: 1\nb: [\n");
    const r = await env.run(["set", "shop", "base", "-f", file("broken.yaml")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/malformed YAML at line \d+/);

    await writeFile(file("broken.json"), '{"a": }');
    const j = await env.run(["set", "shop", "base", "-f", file("broken.json")]);
    expect(j.code).toBe(4);
    expect(j.stderr).toContain("code malformed_body");

    await writeFile(file("latin1.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    const enc = await env.run(["set", "shop", "base", "-f", file("latin1.yaml")]);
    expect(enc.code).toBe(4);
    expect(enc.stderr).toContain("is not UTF-8");
  });

  it("exits 2 for a file it cannot read or a missing -f", async () => {
    const missing = await env.run(["set", "shop", "base", "-f", file("absent.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");

    const directory = await env.run(["set", "shop", "base", "-f", env.dir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain("it is a directory");

    const noFile = await env.run(["set", "shop", "base"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("--file");
  });

  it("exits 1 for an environment the namespace does not have", async () => {
    const r = await env.run(["get", "shop", "qa"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("code environment_not_found, HTTP 404");
  });
});
