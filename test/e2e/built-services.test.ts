import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Every service of the repository (a new one under services/ is picked up without edits). */
async function serviceNames(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "services"), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(ROOT, "services", e.name, "src/main.ts")))
    .map((e) => e.name)
    .sort();
}

/**
 * `pnpm build`'s output is what runs: a service starts from dist/ with plain node (which cannot
 * load TypeScript, so nothing falls back to the sources), and the CLI packs into a tarball that
 * `npm i -g` installs without this workspace.
 */
describe("built output", () => {
  let db: TestDatabase;
  let nats: TestNats;
  let redis: TestRedis;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    // dist/ is built once per run by test/support/build-once.ts (vitest global setup).
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: "built_probe" }),
      createTestNats(),
      createTestRedis(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await db?.drop();
    await nats?.cleanup();
    await redis?.cleanup();
  });

  // Every service's runtime tree is started by test/deploy/runtime-tree.test.ts; here the
  // repository's own layout, as scripts/up.sh runs it (pnpm start: node on dist/main.js).
  it("starts a service from dist/ in the repository with node alone, ready with its dependencies up", async () => {
    const names = await serviceNames();
    for (const name of names) {
      expect(existsSync(join(ROOT, "services", name, "dist/main.js")), `${name}: dist/main.js`).toBe(true);
      const { scripts } = JSON.parse(await readFile(join(ROOT, "services", name, "package.json"), "utf8"));
      expect(scripts.start, name).toMatch(/^node --conditions=nexus-dist .*dist\/main\.js$/);
    }
    const env = {
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_TOKEN_KEY: randomBytes(32).toString("base64"),
    };
    const proc = await startServiceProcess("config-registry", "services/config-registry/src/main.ts", env, {
      built: true,
    });
    running.push(proc);
    expect((await fetch(`${proc.url}/readyz`)).status).toBe(200);
    expect(proc.child.spawnargs.join(" ")).not.toContain("tsx");
  }, 120_000);

  it("packs the CLI into a tarball that npm installs globally and runs as `nexus`", async () => {
    const work = await mkdtemp(join(tmpdir(), "nexus-cli-pack-"));
    try {
      const pkgDir = join(ROOT, "packages/cli/dist/npm");
      const packed = await run("npm", ["pack", "--pack-destination", work, pkgDir], { cwd: work });
      const tarball = join(work, packed.stdout.trim().split("\n").pop() ?? "");
      const prefix = join(work, "prefix");
      // A clean machine: an empty prefix and cache, no access to this workspace's node_modules.
      await run(
        "npm",
        ["install", "-g", "--prefix", prefix, "--cache", join(work, "cache"), "--offline", tarball],
        { cwd: work },
      );
      const { version } = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8"));
      const bin = join(prefix, "bin/nexus");
      const printed = await run(bin, ["--version"], { cwd: work, env: { PATH: process.env.PATH ?? "" } });
      expect(printed.stdout.trim()).toBe(version);
      const help = await run(bin, ["--help"], { cwd: work, env: { PATH: process.env.PATH ?? "" } });
      expect(help.stdout).toContain("Usage: nexus");
      const installed = await readdir(join(prefix, "lib/node_modules/@nexus/cli"));
      expect(installed).not.toContain("node_modules"); // one file, nothing to resolve at run time
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});
