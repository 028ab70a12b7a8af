import { readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

/** A loopback port with nothing listening: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("nexus login", () => {
  let env: CliEnvironment;
  let tok: string;
  let stdinTok: string;
  let openTok: string;
  beforeAll(async () => {
    env = await startCliEnvironment({ withoutToken: true });
    const token = (name: string) => env.registry.tokenFor(["viewer"], { name, owner: "lee" });
    [tok, stdinTok, openTok] = [await token("login"), await token("stdin"), await token("open")];
  });
  afterAll(async () => env?.close());

  it("refuses to run commands before a registry is configured (exit 2)", async () => {
    const r = await env.run(["ns", "list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no registry configured");
    expect(r.stderr).toContain("nexus login");
  });

  it("checks the registry accepts the token, says who you are, then saves URL and token in a 0600 file", async () => {
    const r = await env.run(["login", `${env.url}/`, "--token", tok]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`You are lee at ${env.url}, through API token ${tok.slice(4, 20)}.`);
    expect(r.stdout).toContain("Changes you make are recorded with lee as their author.");
    expect(r.stdout).toMatch(/^ {2}viewer {2}read every namespace, in every environment$/m);
    expect(r.stdout).toContain(`Logged in: URL and token saved in ${env.defaultConfigPath}.`);
    expect(r.stdout).not.toContain(tok);

    const mode = (await stat(env.defaultConfigPath)).mode & 0o777;
    expect(mode).toBe(0o600);
    expect((await stat(join(env.home, ".config", "nexus"))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(env.defaultConfigPath, "utf8"))).toEqual({
      url: env.url,
      token: tok,
    });

    // Later commands use the saved URL.
    expect((await env.run(["ns", "list"])).code).toBe(0);
  });

  it("keeps the saved token when logging in again to the same registry, and reports JSON", async () => {
    const r = await env.run(["login", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      url: env.url,
      configPath: env.defaultConfigPath,
      token: true,
      whoami: {
        subject: `token:${tok.slice(4, 20)}`,
        name: "lee",
        kind: "token",
        grants: [{ role: "viewer", namespaces: ["*"], environments: ["*"] }],
      },
    });
    expect(JSON.parse(await readFile(env.defaultConfigPath, "utf8"))).toEqual({ url: env.url, token: tok });
  });

  it("loads a config file an older CLI wrote with an author, and drops the author on the next login", async () => {
    const old = join(env.dir, "old.json");
    await writeFile(old, JSON.stringify({ url: env.url, token: tok, author: "ann" }), { mode: 0o600 });
    const list = await env.run(["ns", "list", "--config", old]);
    expect(list.stderr).toBe("");
    expect(list.code).toBe(0);
    const who = await env.run(["whoami", "--config", old]);
    expect(who.stdout).toContain("You are lee");

    expect((await env.run(["login", "--config", old])).code).toBe(0);
    expect(JSON.parse(await readFile(old, "utf8"))).toEqual({ url: env.url, token: tok });
  });

  it("has no --author any more (exit 2), and ignores NEXUS_AUTHOR", async () => {
    const flag = await env.run(["ns", "list", "--author", "ann"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--author'");
    const help = await env.run(["--help"]);
    expect(help.stdout).not.toMatch(/--author|NEXUS_AUTHOR/i);
    const who = await env.run(["whoami"], { env: { NEXUS_AUTHOR: "mallory" } });
    expect(who.code).toBe(0);
    expect(who.stdout).toContain("You are lee");
    expect(who.stdout).not.toContain("mallory");
  });

  it("needs a token to log in (exit 2), and saves nothing", async () => {
    const config = join(env.dir, "no-token.json");
    const r = await env.run(["login", env.url, "--config", config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no token to log in with");
    expect(r.stderr).toContain("--token-stdin");
    await expect(stat(config)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a token the registry does not know (exit 5), and saves nothing", async () => {
    const config = join(env.dir, "bad-token.json");
    const forged = `${tok.slice(0, 21)}${"A".repeat(43)}`;
    const r = await env.run(["login", env.url, "--config", config, "--token-stdin"], { stdin: forged });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("the registry does not know your token (from --token-stdin)");
    expect(r.stderr).toContain("code invalid_token, HTTP 401");
    expect(r.stderr).not.toContain(forged);
    await expect(stat(config)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reads the token from stdin with --token-stdin", async () => {
    const config = join(env.dir, "stdin-token.json");
    const r = await env.run(["login", env.url, "--config", config, "--token-stdin"], {
      stdin: `${stdinTok}\n`,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(config, "utf8")).token).toBe(stdinTok);
  });

  it("saves nothing when the registry does not answer (exit 1)", async () => {
    const config = join(env.dir, "unreachable.json");
    const port = await closedPort();
    const r = await env.run([
      "login",
      `http://127.0.0.1:${port}`,
      "--config",
      config,
      "--token",
      "tok-secret-2",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot reach the registry");
    expect(r.stderr).toContain("connection refused");
    expect(r.stderr + r.stdout).not.toContain("tok-secret-2");
    await expect(stat(config)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a URL that is not http(s) or carries credentials (exit 2)", async () => {
    const config = join(env.dir, "bad-url.json");
    const ftp = await env.run(["login", "ftp://example.com", "--config", config]);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain("http:// or https://");
    const creds = await env.run(["login", "http://ann:hunter2@127.0.0.1:1", "--config", config]);
    expect(creds.code).toBe(2);
    expect(creds.stderr).toContain("credentials");
    expect(creds.stderr).not.toContain("hunter2");
    await expect(stat(config)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("finds the config under XDG_CONFIG_HOME, NEXUS_CONFIG or --config", async () => {
    const xdg = join(env.dir, "xdg");
    const r = await env.run(["login", env.url, "--token", tok], { env: { XDG_CONFIG_HOME: xdg } });
    expect(r.code).toBe(0);
    expect((await stat(join(xdg, "nexus", "config.json"))).mode & 0o777).toBe(0o600);

    const other = join(env.dir, "other.json");
    await writeFile(other, JSON.stringify({ url: "http://127.0.0.1:1", token: tok }), { mode: 0o600 });
    // NEXUS_CONFIG points at a file whose registry is not there: the command uses it and fails.
    const viaEnv = await env.run(["ns", "list"], { env: { NEXUS_CONFIG: other } });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain("http://127.0.0.1:1");
    // --url beats the file's URL.
    expect((await env.run(["ns", "list", "--url", env.url], { env: { NEXUS_CONFIG: other } })).code).toBe(0);
    // NEXUS_URL too.
    expect((await env.run(["ns", "list"], { env: { NEXUS_CONFIG: other, NEXUS_URL: env.url } })).code).toBe(
      0,
    );
  });

  it("warns when the config file holding a token is readable by others", async () => {
    const open = join(env.dir, "open.json");
    await writeFile(open, JSON.stringify({ url: env.url, token: openTok }), { mode: 0o644 });
    const r = await env.run(["ns", "list", "--config", open]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`chmod 600 ${open}`);
    expect(r.stderr).not.toContain(openTok);
  });
});

describe("nexus ns", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment();
    expect((await env.run(["login", env.url])).code).toBe(0);
  });
  afterAll(async () => env?.close());

  it("creates a namespace with description, owners and environments", async () => {
    const r = await env.run([
      "ns",
      "create",
      "payments",
      "--description",
      "Payments API",
      "--owner",
      "alice",
      "--owner",
      "bob",
      "--environments",
      "dev,prod",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Created namespace payments (environments: dev, prod)");

    const shown = await env.run(["ns", "show", "payments", "--json"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: "payments",
      description: "Payments API",
      owners: ["alice", "bob"],
      environments: ["dev", "prod"],
      headRevision: 0,
    });
  });

  it("lists namespaces as a table and as JSON", async () => {
    expect((await env.run(["ns", "create", "catalog"])).code).toBe(0);
    const table = await env.run(["ns", "list"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+ENVIRONMENTS\s+OWNERS\s+REVISION\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["catalog", "payments"]);
    expect(table.stdout).toMatch(/payments\s+dev, prod\s+alice, bob\s+0\s+Payments API/);

    const json = await env.run(["--json", "ns", "list"]);
    const names = JSON.parse(json.stdout).items.map((n: { name: string }) => n.name);
    expect(names).toEqual(["catalog", "payments"]);
  });

  it("shows one namespace for people", async () => {
    const r = await env.run(["ns", "show", "payments"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^owners\s+alice, bob$/m);
    expect(r.stdout).toMatch(/^environments\s+dev, prod$/m);
  });

  it("exits 3 when the name is taken, with the server's code and field", async () => {
    const r = await env.run(["ns", "create", "payments"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("already exists");
    expect(r.stderr).toContain("code namespace_exists, HTTP 409");
    expect(r.stderr).toContain("field: name");
  });

  it("exits 1 for a namespace that does not exist, and JSON errors with --json", async () => {
    const r = await env.run(["ns", "show", "nope", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr)).toMatchObject({
      error: { code: "namespace_not_found", status: 404, exitCode: 1 },
    });
  });

  it("exits 2 on bad usage: unknown command or flag, missing or invalid argument", async () => {
    const cases = [
      ["ns", "frobnicate"],
      ["ns", "list", "--bogus"],
      ["ns", "show"],
      ["ns", "show", "Not_A_Name"],
      ["ns", "create", "x", "--environments", "dev,BAD"],
      ["history", "payments", "base", "--limit", "0"],
      ["get", "payments", "prod", "--format", "toml"],
      ["nonsense"],
    ];
    const results = await Promise.all(cases.map((args) => env.run(args)));
    results.forEach((r, i) => {
      expect({ args: cases[i], code: r.code }).toEqual({ args: cases[i], code: 2 });
      expect(r.stderr).toMatch(/error|Usage/);
    });
  });

  it("prints help and version with exit 0", async () => {
    const help = await env.run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      "Exit codes: 0 ok, 1 error, 2 usage, 3 conflict (409), 4 validation failed",
    );
    const version = await env.run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
