/**
 * Git webhook benchmark (`pnpm exec tsx test/bench/git-webhook.ts`; README: "(e) Git webhook").
 *
 * A repository with BENCH_GIT_FILES (1,000) config files and BENCH_GIT_HISTORY (1,000) commits of
 * history, bound to the real registry (its integration harness: real Postgres, NATS, Redis). Each
 * measured push changes 10 files (10 namespaces' production overlays); the clock runs from the
 * signed GitHub webhook being sent until the 10th `config.changed` of that commit is heard on NATS.
 * Baselines in the same run, per push: a bare `git fetch --depth=1` of the same commit into a
 * warm cache of its own, and a NATS publish → subscriber round trip. Target: p99 ≤ 500 ms.
 *
 * Env: BENCH_GIT_PUSHES (50), BENCH_GIT_FILES (1000, a multiple of 4), BENCH_GIT_HISTORY (1000).
 */
import { execFile, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { CONFIG_CHANGED } from "@nexus/contracts";
import { call, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { summarize } from "./stats.js";

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
};
const PUSHES = num("BENCH_GIT_PUSHES", 50);
const FILES = num("BENCH_GIT_FILES", 1000);
const HISTORY = num("BENCH_GIT_HISTORY", 1000);
const TOUCHED = 10;
const SECRET = "bench-webhook-secret";
const REPO = "bench/config";
const ENVIRONMENTS = ["base", "development", "staging", "production"];
const NAMESPACES = FILES / ENVIRONMENTS.length;
const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) =>
  run("git", args, { cwd, maxBuffer: 256 * 1024 * 1024 }).then((r) => r.stdout.trim());
const nsName = (i: number) => `svc-${String(i).padStart(4, "0")}`;
const pathOf = (i: number, env: string) => `config/${nsName(i)}/${env}.yaml`;
const fileContent = (i: number, env: string, version: number) =>
  `# ${nsName(i)} ${env}\nservice: ${nsName(i)}\nversion: ${version}\npool:\n  min: 2\n  max: ${10 + (version % 7)}\nfeatures:\n  - a\n  - b\n`;

/** The initial tree of all files, then HISTORY commits each changing one file, via git fast-import. */
async function buildHistory(bare: string): Promise<void> {
  const chunks: string[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  let when = 1_700_000_000;
  chunks.push(
    `commit refs/heads/main\ncommitter Bench <bench@example.test> ${when} +0000\n${data("initial tree")}`,
  );
  for (let i = 0; i < NAMESPACES; i++)
    for (const env of ENVIRONMENTS)
      chunks.push(`M 644 inline ${pathOf(i, env)}\n${data(fileContent(i, env, 0))}`);
  for (let c = 1; c < HISTORY; c++) {
    const i = c % NAMESPACES;
    const env = ENVIRONMENTS[c % ENVIRONMENTS.length]!;
    chunks.push(
      `commit refs/heads/main\ncommitter Bench <bench@example.test> ${++when} +0000\n${data(`history ${c}`)}`,
    );
    chunks.push(`M 644 inline ${pathOf(i, env)}\n${data(fileContent(i, env, c))}`);
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn("git", ["fast-import", "--quiet"], {
      cwd: bare,
      stdio: ["pipe", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`)),
    );
    child.stdin.end(chunks.join(""));
  });
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main() {
  const root = await mkdtemp(join(tmpdir(), "nexus-bench-git-"));
  const bare = join(root, "origin.git");
  const work = join(root, "work");
  const baselineCache = join(root, "baseline.git");
  const h = await startRegistry({ git: { cacheDir: join(root, "cache") } });
  try {
    const setupStart = performance.now();
    await run("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
    await buildHistory(bare);
    await run("git", ["clone", "--quiet", `file://${bare}`, work]);
    await git(work, "config", "user.name", "Bench Author");
    await git(work, "config", "user.email", "author@example.test");
    const commits = await git(bare, "rev-list", "--count", "main");
    const files = await git(bare, "ls-tree", "-r", "--name-only", "main").then((o) => o.split("\n").length);

    for (let i = 0; i < NAMESPACES; i++) {
      const res = await call(h, "POST", "/v1/namespaces", { name: nsName(i) });
      if (res.status !== 201) throw new Error(`namespace ${nsName(i)}: ${res.status}`);
    }
    const created = await call(h, "POST", "/v1/git-sources", {
      name: "bench",
      provider: "github",
      url: `file://${bare}`,
      repository: REPO,
      namespaces: Array.from({ length: NAMESPACES }, (_, i) => nsName(i)),
      environments: { development: "main", staging: "main", production: "main" },
      baseBranch: "main",
      webhookSecret: SECRET,
    });
    if (created.status !== 201) throw new Error(`git source: ${created.status} ${created.raw}`);
    const firstImportStart = performance.now();
    const first = await call(h, "POST", "/v1/git-sources/bench/resync", {});
    if (first.body?.results?.[0]?.status !== "applied") throw new Error(`first import: ${first.raw}`);
    const firstImportMs = performance.now() - firstImportStart;
    await run("git", ["init", "--quiet", "--bare", baselineCache]);
    await git(baselineCache, "fetch", "--quiet", "--depth=1", `file://${bare}`, "main");

    await h.registry.app.listen({ host: "127.0.0.1", port: 0 });
    const address = h.registry.app.server.address() as { port: number };
    const webhookUrl = `http://127.0.0.1:${address.port}/v1/webhooks/github`;

    // config.changed heard live on core NATS, counted per commit.
    const heard = new Map<string, { n: number; done?: () => void }>();
    const sub = h.nats.bus.subscribe(CONFIG_CHANGED, {}, (e) => {
      const sha = e.data.source.split("@")[1];
      if (!sha) return;
      const entry = heard.get(sha) ?? { n: 0 };
      entry.n++;
      heard.set(sha, entry);
      if (entry.n === TOUCHED) entry.done?.();
    });
    const setupMs = performance.now() - setupStart;

    const endToEnd: number[] = [];
    const answered: number[] = [];
    const fetches: number[] = [];
    const natsTrips: number[] = [];
    const probe = h.nats.bus.subject("nexus.bench.git.probe");
    for (let p = 0; p < PUSHES + 3; p++) {
      const warm = p < 3;
      const changed: string[] = [];
      for (let k = 0; k < TOUCHED; k++) {
        const i = (p * TOUCHED + k) % NAMESPACES;
        const path = pathOf(i, "production");
        await writeFile(join(work, path), fileContent(i, "production", 10_000 + p));
        changed.push(path);
      }
      await git(work, "commit", "--quiet", "-am", `bench push ${p}`);
      const before = await git(work, "rev-parse", "HEAD~1");
      await git(work, "push", "--quiet", "origin", "HEAD:main");
      const after = await git(work, "rev-parse", "HEAD");
      const body = JSON.stringify({
        ref: "refs/heads/main",
        before,
        after,
        created: false,
        deleted: false,
        forced: false,
        repository: { full_name: REPO, name: "config" },
        commits: [{ id: after, message: `bench push ${p}`, added: [], removed: [], modified: changed }],
        head_commit: { id: after },
      });
      const headers = {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
      };
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`push ${p}: not all ${TOUCHED} config.changed within 10 s`)),
          10_000,
        );
        heard.set(after, {
          n: 0,
          done: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
      const t0 = performance.now();
      const res = await fetch(webhookUrl, { method: "POST", headers, body });
      const t1 = performance.now();
      if (res.status !== 202)
        throw new Error(`push ${p}: webhook answered ${res.status} ${await res.text()}`);
      await all;
      const t2 = performance.now();

      // Baselines for the same commit: a bare shallow fetch, and a NATS round trip.
      const f0 = performance.now();
      await git(baselineCache, "fetch", "--quiet", "--depth=1", `file://${bare}`, after);
      const f1 = performance.now();
      const n0 = performance.now();
      await new Promise<void>((resolve) => {
        const s = h.nats.nc.subscribe(probe, { max: 1, callback: () => resolve() });
        void h.nats.nc.flush().then(() => h.nats.nc.publish(probe, "x"));
        void s;
      });
      const n1 = performance.now();
      if (warm) continue;
      answered.push(t1 - t0);
      endToEnd.push(t2 - t0);
      fetches.push(f1 - f0);
      natsTrips.push(n1 - n0);
    }
    await sub.stop();

    const s = (xs: number[]) => summarize([Float64Array.from(xs)]);
    const e2e = s(endToEnd);
    const ack = s(answered);
    const fetch1 = s(fetches);
    const nats = s(natsTrips);
    const baselineP99 = fetch1.p99 + nats.p99;
    console.log(
      `\nGit webhook → config.changed: ${PUSHES} pushes of ${TOUCHED} files; repository of ${files} files, ${commits} commits`,
    );
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    console.log(
      `set-up ${(setupMs / 1000).toFixed(1)} s (first import of all ${files} files: ${(firstImportMs / 1000).toFixed(1)} s)\n`,
    );
    console.log("| measure | p50 | p99 | max |");
    console.log("|---|---|---|---|");
    console.log(
      `| webhook sent → 10th config.changed heard (registry) | ${fmt(e2e.p50)} | ${fmt(e2e.p99)} | ${fmt(e2e.max)} |`,
    );
    console.log(`| webhook sent → 202 answered | ${fmt(ack.p50)} | ${fmt(ack.p99)} | ${fmt(ack.max)} |`);
    console.log(
      `| baseline: bare git fetch --depth=1 of the commit | ${fmt(fetch1.p50)} | ${fmt(fetch1.p99)} | ${fmt(fetch1.max)} |`,
    );
    console.log(
      `| baseline: NATS publish → subscriber | ${fmt(nats.p50)} | ${fmt(nats.p99)} | ${fmt(nats.max)} |`,
    );
    console.log(
      `\nratio registry p99 / (fetch p99 + NATS p99): ${(e2e.p99 / baselineP99).toFixed(1)}x; target p99 ≤ 500 ms: ${e2e.p99 <= 500 ? "met" : "no"}`,
    );
  } finally {
    await h.close();
    await rm(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
