import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { type Copy, DockerfileParser, type Instruction } from "dockerfile-ast";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/service-process.js";
import { ROOT, serviceNames } from "./deploy-files.js";

const run = promisify(execFile);

/** The Dockerfile's stages by name, each with its instructions. */
async function dockerfileStages(): Promise<Map<string, Instruction[]>> {
  const dockerfile = DockerfileParser.parse(await readFile(join(ROOT, "Dockerfile"), "utf8"));
  const stages = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      current = [];
      const name = (instruction as unknown as { getBuildStage(): string | null }).getBuildStage();
      stages.set(name ?? `#${stages.size}`, current);
    }
    current.push(instruction);
  }
  return stages;
}

const argsOf = (stage: Instruction[] | undefined, keyword: string) =>
  (stage ?? []).filter((i) => i.getKeyword() === keyword).map((i) => i.getRawArgumentsContent() ?? "");

/** The repository's files (what a Docker build context gets: git's view, no node_modules or dist). */
async function copyBuildContext(into: string): Promise<void> {
  const listed = await run("git", ["ls-files", "-co", "--exclude-standard"], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = listed.stdout.split("\n").filter((f) => f && existsSync(join(ROOT, f)));
  await Promise.all(files.map((f) => cp(join(ROOT, f), join(into, f), { recursive: false })));
}

/**
 * The image's `prod` stage, replayed without Docker: a copy of the build context plus the build
 * stage's dist/ folders, through scripts/lib/runtime-tree.sh (the very script the Dockerfile
 * runs). What is left must start with plain node and hold no development dependency.
 */
describe("runtime tree of the image", () => {
  let db: TestDatabase;
  let nats: TestNats;
  let redis: TestRedis;
  let context: string;

  beforeAll(async () => {
    // dist/ is built once per run by test/support/build-once.ts (vitest global setup).
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: "runtime_probe" }),
      createTestNats(),
      createTestRedis(),
    ]);
    context = await mkdtemp(join(tmpdir(), "nexus-build-context-"));
    await copyBuildContext(context);
  }, 180_000);
  afterAll(async () => {
    await db?.drop();
    await nats?.cleanup();
    await redis?.cleanup();
    if (context) await rm(context, { recursive: true, force: true });
  });

  it("builds in one stage, installs production dependencies in another, runs as non-root under tini", async () => {
    const stages = await dockerfileStages();
    expect([...stages.keys()]).toEqual(expect.arrayContaining(["build", "prod", "runtime"]));
    expect(argsOf(stages.get("build"), "RUN").join("\n")).toContain("pnpm build");
    expect(argsOf(stages.get("prod"), "RUN").join("\n")).toContain("scripts/lib/runtime-tree.sh");
    const runtime = stages.get("runtime");
    // Nothing from the build context or the build stage: only the prod stage's tree.
    const copies = (runtime ?? []).filter((i) => i.getKeyword() === "COPY") as unknown as Copy[];
    const fromOf = (c: Copy) =>
      c
        .getFlags()
        .find((f) => f.getName() === "from")
        ?.getValue();
    expect(copies.map(fromOf)).toEqual(["prod"]);
    expect(argsOf(runtime, "USER")).toEqual(["node"]);
    expect(argsOf(runtime, "ENTRYPOINT")[0]).toContain("/usr/bin/tini");
    expect(argsOf(runtime, "CMD")[0]).toContain("dist/main.js");
    expect(argsOf(runtime, "CMD")[0]).not.toMatch(/tsx|pnpm/);
    expect(argsOf(runtime, "HEALTHCHECK")[0]).toContain("/readyz");
  });

  it("leaves each service only its production dependencies, and it starts with node", async () => {
    const env = {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_TOKEN_KEY: randomBytes(32).toString("base64"),
      NOTIFIER_SECRETS_KEY: `k1:${randomBytes(32).toString("base64")}`,
      HEARTBEAT_INTERVAL_SECONDS: "0",
    };
    for (const service of await serviceNames()) {
      const tree = await mkdtemp(join(tmpdir(), `nexus-runtime-${service}-`));
      let child: ChildProcess | undefined;
      try {
        await cp(context, tree, { recursive: true });
        for (const group of ["packages", "services"]) {
          for (const name of await readdir(join(ROOT, group))) {
            const dist = join(ROOT, group, name, "dist");
            if (existsSync(dist)) await cp(dist, join(tree, group, name, "dist"), { recursive: true });
          }
        }
        await run("bash", ["scripts/lib/runtime-tree.sh", service], {
          cwd: tree,
          maxBuffer: 16 * 1024 * 1024,
        });

        expect(await readdir(join(tree, "services"))).toEqual([service]);
        const installed = await readdir(join(tree, "node_modules/.pnpm"));
        for (const dev of ["tsx@", "vitest@", "typescript@", "esbuild@", "@biomejs+biome@"]) {
          expect(
            installed.filter((p) => p.startsWith(dev)),
            `${service}: ${dev}`,
          ).toEqual([]);
        }

        const port = await freePort();
        let output = "";
        child = spawn(process.execPath, ["--conditions=nexus-dist", "dist/main.js"], {
          cwd: join(tree, "services", service),
          env: { ...env, PORT: String(port), BACKUP_DIR: join(tree, "backups") },
          stdio: ["ignore", "pipe", "pipe"],
        });
        const keep = (d: Buffer) => {
          output += d.toString();
        };
        child.stdout?.on("data", keep);
        child.stderr?.on("data", keep);
        const ready = async () => {
          if (child?.exitCode !== null) throw new Error(`${service} exited:\n${output}`);
          return fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status,
            () => 0,
          );
        };
        await expect.poll(ready, { timeout: 30_000, interval: 200 }).toBe(200);
      } finally {
        if (child && child.exitCode === null) {
          const exited = new Promise((r) => child?.once("exit", r));
          child.kill("SIGTERM");
          await exited;
        }
        await rm(tree, { recursive: true, force: true });
      }
    }
  }, 300_000);
});
