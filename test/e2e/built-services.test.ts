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
const sealingKey = () => `k1:${randomBytes(32).toString("base64")}`;

/** Every service of the repository (a new one under services/ is picked up without edits). */
async function serviceNames(): Promise<string[]> {
  const entries = await readdir(join(ROOT, "services"), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(ROOT, "services", e.name, "src/main.ts")))
    .map((e) => e.name)
    .sort();
}

/**
 * `pnpm build`'s output is what runs in production: every service starts from dist/ with plain
 * node (which cannot load TypeScript, so nothing falls back to the sources), and the CLI packs into
 * a tarball that `npm i -g` installs without this workspace.
 */
describe("built output", () => {
  let db: TestDatabase;
  let nats: TestNats;
  let redis: TestRedis;
  let backupDir: string;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    await run(process.execPath, ["--import", "tsx", "scripts/lib/build.ts"], { cwd: ROOT });
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: "built_probe" }),
      createTestNats(),
      createTestRedis(),
    ]);
    backupDir = await mkdtemp(join(tmpdir(), "nexus-built-backups-"));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await db?.drop();
    await nats?.cleanup();
    await redis?.cleanup();
    if (backupDir) await rm(backupDir, { recursive: true, force: true });
  });

  it("starts every service from dist/ with node alone, ready with its dependencies up", async () => {
    const names = await serviceNames();
    expect(names).toContain("config-registry");
    // One environment for all (each service reads only its own variables).
    const env = {
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_TOKEN_KEY: randomBytes(32).toString("base64"),
      NOTIFIER_SECRETS_KEY: sealingKey(),
      BACKUP_ENCRYPTION_KEY: sealingKey(),
      BACKUP_DIR: backupDir,
    };
    for (const name of names) {
      expect(existsSync(join(ROOT, "services", name, "dist/main.js")), `${name}: dist/main.js`).toBe(true);
      const proc = await startServiceProcess(name, `services/${name}/src/main.ts`, env, { built: true });
      running.push(proc);
      const ready = await fetch(`${proc.url}/readyz`);
      expect(ready.status, name).toBe(200);
      expect(proc.child.spawnargs.join(" ")).not.toContain("tsx");
    }
  }, 180_000);

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
