import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

/**
 * A write to a protected environment by an editor is answered 202 with a change request. The CLI
 * says so, prints the request's id and how an approver approves it, and exits 6 (not 0: nothing
 * is written yet; not 1: a script retrying on failure would open one request per retry).
 */
describe("nexus set / edit / rollback on a protected environment", () => {
  let env: CliEnvironment;
  let editor: Record<string, string>;
  const file = (name: string) => join(env.dir, name);
  const pending = async () =>
    (await call(env.registry, "GET", "/v1/change-requests?namespace=shop&status=pending")).body;
  const production = async () =>
    (await call(env.registry, "GET", "/v1/namespaces/shop/layers/production")).body;

  beforeAll(async () => {
    env = await startCliEnvironment({ registry: { protectedEnvironments: ["production"] } });
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
    // The admin's writes are not gated: production gets revisions 1 and 2.
    for (const pool of [10, 20]) {
      await writeFile(file("prod.yaml"), `database:\n  pool: ${pool}\n`);
      expect((await env.run(["set", "shop", "production", "-f", file("prod.yaml")])).code).toBe(0);
    }
    const token = await env.registry.tokenFor(["editor:shop"], { name: "ed", owner: "ed" });
    editor = { NEXUS_TOKEN: token };
  });
  afterAll(async () => env?.close());

  it("set: says a change request was opened, with its id and how to approve it, and exits 6", async () => {
    await writeFile(file("prod.yaml"), "database:\n  pool: 50\n");
    const r = await env.run(["set", "shop", "production", "-f", file("prod.yaml"), "-m", "more"], {
      env: editor,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(6);
    const [request] = (await pending()).items;
    expect(request).toMatchObject({ kind: "replace", author: "ed", content: { database: { pool: 50 } } });
    expect(r.stdout).toContain(
      `shop/production: change request ${request.id} opened; nothing is written until an approver approves it.`,
    );
    expect((await production()).revision).toBe(2);

    // The approval the CLI points at works as printed (run by an approver, through a shell).
    const approval = /^ {2}(curl -X POST .*\/approve)$/m.exec(r.stdout)?.[1];
    expect(approval).toContain(`${env.url}/v1/change-requests/${request.id}/approve`);
    const approver = await env.registry.tokenFor(["approver:shop"], { name: "ap", owner: "ap" });
    // Asynchronously: the registry answering it runs in this process.
    const shell = await promisify(execFile)(
      "/bin/sh",
      ["-c", `${approval} -s -o /dev/null -w '%{http_code}'`],
      {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NEXUS_TOKEN: approver },
        encoding: "utf8",
      },
    );
    expect(shell.stdout).toBe("200");
    expect((await production()).content).toEqual({ database: { pool: 50 } });
  });

  it("set --json: prints the change request itself", async () => {
    await writeFile(file("prod.yaml"), "database:\n  pool: 60\n");
    const r = await env.run(["set", "shop", "production", "-f", file("prod.yaml"), "--json"], {
      env: editor,
    });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe("");
    const printed = JSON.parse(r.stdout);
    const [request] = (await pending()).items;
    expect(printed).toEqual(request);
    expect(printed).toMatchObject({ status: "pending", namespace: "shop", layer: "production" });
  });

  it("rollback and edit: the same", async () => {
    const before = (await pending()).items.length;
    const rollback = await env.run(["rollback", "shop", "production", "1"], { env: editor });
    expect(rollback.stderr).toBe("");
    expect(rollback.code).toBe(6);
    expect(rollback.stdout).toMatch(/shop\/production: change request [0-9a-f-]{36} opened/);

    const script = file("bump.sh");
    await writeFile(script, `#!/bin/sh\nset -e\nsed -i 's/pool: 50/pool: 70/' "$1"\n`, { mode: 0o755 });
    const edit = await env.run(["edit", "shop", "production"], { env: { ...editor, EDITOR: script } });
    expect(edit.stderr).toBe("");
    expect(edit.code).toBe(6);
    expect(edit.stdout).toMatch(/shop\/production: change request [0-9a-f-]{36} opened/);

    const kinds = (await pending()).items.map((c: { kind: string }) => c.kind);
    expect(kinds.length).toBe(before + 2);
    expect(kinds).toEqual(expect.arrayContaining(["rollback", "replace"]));
  });

  // The registry refuses the announced body before "100 Continue", so no upload races the answer.
  it("a document of several MB: the registry's 413, stating the limit, not 'cannot reach'", async () => {
    const big = `${"x: ".concat("y".repeat(64))}\n`.repeat(100_000); // ~6.7 MB of YAML
    await writeFile(file("big.yaml"), big);
    for (let i = 0; i < 3; i++) {
      const r = await env.run(["set", "shop", "staging", "-f", file("big.yaml")]);
      expect(r.stderr).toContain("The body is larger than allowed: at most 1 MiB");
      expect(r.stderr).toContain("HTTP 413");
      expect(r.code).toBe(4);
    }
  });
});

/**
 * A proxy in front of the registry that refuses a body by its Content-Length, as nginx does with
 * client_max_body_size: it answers 413 at once, instead of `100 Continue` when asked, and closes
 * the connection without reading the body. The CLI reports that answer, not "cannot reach".
 */
describe("nexus set through a proxy that refuses a large body without reading it", () => {
  let server: Server;
  let url: string;
  let dir: string;
  beforeAll(async () => {
    const refuse = (_req: IncomingMessage, res: ServerResponse) => {
      const body = JSON.stringify({
        error: {
          code: "body_too_large",
          message: "The body is larger than allowed: at most 1 MiB",
          requestId: "r-1",
        },
      });
      // Node closes the connection after this answer, whatever is still on its way.
      res.writeHead(413, { "content-type": "application/json", connection: "close" });
      res.end(body);
    };
    server = createServer(refuse);
    server.on("checkContinue", refuse);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), "nexus-cli-413-"));
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports the 413 with its message and exits 4, every time", async () => {
    const env = await startCliEnvironment();
    try {
      await writeFile(join(dir, "big.yaml"), `${"x: ".concat("y".repeat(64))}\n`.repeat(100_000));
      for (let i = 0; i < 5; i++) {
        const r = await env.run(["set", "shop", "staging", "-f", join(dir, "big.yaml")], {
          env: { NEXUS_URL: url },
        });
        expect(r.stderr).toContain("The body is larger than allowed: at most 1 MiB");
        expect(r.stderr).not.toContain("cannot reach");
        expect(r.code).toBe(4);
      }
    } finally {
      await env.close();
    }
  });
});
