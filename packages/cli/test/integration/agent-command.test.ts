/**
 * `nexus agent` as a process, the way a sidecar runs it: the command line (`--file`, `--` and
 * the child), the token from NEXUS_TOKEN, plain log lines on stderr, SIGTERM ending it with exit
 * 0 and the supervised child with it; a bad config file refused with its line and exit 2.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { eventually, linesOf } from "./agent-support.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus agent, the command", () => {
  let env: CliEnvironment;

  beforeAll(async () => {
    env = await startCliEnvironment();
    expect((await call(env.registry, "POST", "/v1/namespaces", { name: "svc" })).status).toBe(201);
    await call(env.registry, "PUT", "/v1/namespaces/svc/layers/production", { greeting: "hello" });
    await writeFile(
      join(env.dir, "child.mjs"),
      [
        'import { appendFileSync } from "node:fs";',
        "appendFileSync(process.argv[2], `${process.pid} ${process.env.SVC_GREETING}\\n`);",
        "setInterval(() => {}, 1000);",
        'process.on("SIGTERM", () => process.exit(0));',
      ].join("\n"),
    );
  });
  afterAll(async () => env?.close());

  it("supervises a child given after --, restarts it on a change, and stops with it on SIGTERM", async () => {
    const starts = join(env.dir, "starts.log");
    await writeFile(
      join(env.dir, "agent.yaml"),
      `service: svc
url: ${env.url}
nats:
  servers: ${TEST_NATS_URL}
subjectPrefix: ${env.registry.nats.prefix}
sources:
  - namespace: svc
    environment: production
    envPrefix: SVC_
    files:
      - { path: ${join(env.dir, "svc.env")}, format: env }
supervise:
  readySeconds: 0.3
`,
    );
    const agent = env.start(["agent", "--file", "agent.yaml", "--", process.execPath, "child.mjs", starts]);
    const [first] = await eventually(
      async () => {
        const l = await linesOf(starts);
        return l.length === 1 ? l : undefined;
      },
      "the child's first start",
      30_000,
      20,
    );
    expect(first).toMatch(/^\d+ hello$/);
    expect(await readFile(join(env.dir, "svc.env"), "utf8")).toBe("GREETING=hello\n");

    await call(env.registry, "PUT", "/v1/namespaces/svc/layers/production", { greeting: "bonjour" });
    const all = await eventually(
      async () => {
        const l = await linesOf(starts);
        return l.length === 2 ? l : undefined;
      },
      "the restart",
      10_000,
      20,
    );
    expect(all[1]).toMatch(/^\d+ bonjour$/);

    const result = await agent.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^\S+Z info {2}svc\/production: config in place /m);
    expect(result.stderr).toContain("stopping");
    expect(() => process.kill(Number(all[1]!.split(" ")[0]), 0)).toThrow();
  });

  it("refuses a bad config file with the line of each problem, exit 2", async () => {
    await writeFile(
      join(env.dir, "bad.yaml"),
      "service: svc\nurl: http://127.0.0.1:1\nsources:\n  - namespace: svc\n    environment: PROD\n",
    );
    const r = await env.run(["agent", "--file", "bad.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bad.yaml:5: sources[0].environment:");
  });
});
