/**
 * `nexus agent` benchmark (`pnpm exec tsx test/bench/agent.ts`; README: "(e) nexus agent").
 *
 * The real registry (in this process, listening on loopback, on the real Postgres, NATS and
 * Redis), one agent (in this process, as `nexus agent` composes it) rendering a JSON file and a
 * template and running a reload command, and one plain SDK client watching the same namespace.
 * For each change (a PUT of the production layer), from just before the PUT:
 *   - agent: the rendered file renamed into place (inotify through fs.watch), then the reload
 *     command done (the file it appends to changes);
 *   - SDK: its change handler called (the moment a service would apply the change).
 * The changes are sequential: the next is written once all three were seen. Printed: p50/p99/max
 * of each, same run, same machine.
 *
 * Env: BENCH_AGENT_CHANGES (default 100).
 */
import { watch } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseAgentConfig } from "../../packages/cli/src/agent/agent-config.js";
import { createAgentLog } from "../../packages/cli/src/agent/agent-log.js";
import { runAgent } from "../../packages/cli/src/agent/run-agent.js";
import { connectConfig } from "../../packages/client/src/index.js";
import { call, startRegistry } from "../../services/config-registry/test/integration/harness.js";
import { summarize } from "./stats.js";

const CHANGES = Math.max(1, Number(process.env.BENCH_AGENT_CHANGES ?? 100));
const NS = "bench-agent";
const log = (s: string) => process.stdout.write(`${s}\n`);
const ms = (n: number) => `${n.toFixed(1)} ms`;

const h = await startRegistry();
const dir = await mkdtemp(join(tmpdir(), "nexus-bench-agent-"));
const abort = new AbortController();
let agentDone: Promise<number> | undefined;
let sdk: Awaited<ReturnType<typeof connectConfig>> | undefined;
try {
  const url = await h.registry.app.listen({ port: 0, host: "127.0.0.1" });
  await call(h, "POST", "/v1/namespaces", { name: NS });
  await call(h, "PUT", `/v1/namespaces/${NS}/layers/base`, {
    upstream: { host: "app", port: 8080 },
    step: 0,
  });
  await writeFile(join(dir, "reload.sh"), 'echo "$(date +%s%N)" >> "$1"\n');
  await writeFile(
    join(dir, "upstream.hbs"),
    "upstream {{config.upstream.host}}:{{config.upstream.port}}; # {{config.step}}\n",
  );
  const files = join(dir, "out");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(files);
  const config = parseAgentConfig(
    `service: bench-agent
url: ${url}
nats:
  servers: nats://127.0.0.1:4222
subjectPrefix: ${h.nats.prefix}
sources:
  - namespace: ${NS}
    environment: production
    files:
      - { path: ${join(files, "config.json")}, format: json }
      - { path: ${join(files, "upstream.conf")}, format: template, template: ${join(dir, "upstream.hbs")} }
reload:
  command: sh ${join(dir, "reload.sh")} ${join(dir, "reloads.log")}
`,
    "bench-agent.yaml",
  );
  agentDone = runAgent({
    config,
    token: h.adminToken,
    childCommand: undefined,
    log: createAgentLog({ write: () => true }, false),
    signal: abort.signal,
  });

  // What each change is waiting for: set before the PUT, resolved by the watchers.
  let waiting: { renamed?: () => void; reloaded?: () => void; applied?: () => void } = {};
  watch(files, (_event, name) => {
    if (name === "upstream.conf") waiting.renamed?.();
  });
  watch(dir, (_event, name) => {
    if (name === "reloads.log") waiting.reloaded?.();
  });
  sdk = await connectConfig({
    namespace: NS,
    environment: "production",
    service: "bench-sdk",
    url,
    token: h.adminToken,
    nats: { servers: "nats://127.0.0.1:4222" },
    subjectPrefix: h.nats.prefix,
    onChange: () => waiting.applied?.(),
  });
  // Let the agent's first render and reload settle.
  await new Promise((r) => setTimeout(r, 1_000));

  const renamed = new Float64Array(CHANGES);
  const reloaded = new Float64Array(CHANGES);
  const applied = new Float64Array(CHANGES);
  for (let i = 0; i < CHANGES; i++) {
    const t0 = performance.now();
    const times = { renamed: 0, reloaded: 0, applied: 0 };
    const done = Promise.all(
      (["renamed", "reloaded", "applied"] as const).map(
        (key) =>
          new Promise<void>((resolve) => {
            waiting[key] = () => {
              if (times[key]) return;
              times[key] = performance.now() - t0;
              resolve();
            };
          }),
      ),
    );
    const res = await call(h, "PUT", `/v1/namespaces/${NS}/layers/production`, { step: i + 1 });
    if (res.status !== 200) throw new Error(`write ${i + 1} failed: ${res.status} ${res.raw}`);
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`change ${i + 1} not seen within 10 s`)), 10_000),
      ),
    ]);
    waiting = {};
    renamed[i] = times.renamed;
    reloaded[i] = times.reloaded;
    applied[i] = times.applied;
  }
  log(`nexus agent vs SDK, ${CHANGES} sequential changes (write → ...), same run, same machine`);
  log("");
  log("| measured from just before the PUT to | p50 | p99 | max |");
  log("|---|---|---|---|");
  for (const [label, samples] of [
    ["agent: rendered file renamed into place", renamed],
    ["agent: reload command done", reloaded],
    ["SDK: change handler called", applied],
  ] as const) {
    const s = summarize([samples]);
    log(`| ${label} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`);
  }
  const gap = summarize([reloaded.map((r, i) => r - applied[i]!)]);
  log("");
  log(`agent reload done minus SDK applied, per change: p50 ${ms(gap.p50)}, p99 ${ms(gap.p99)}`);
} finally {
  abort.abort();
  await agentDone?.catch(() => 1);
  await sdk?.close();
  await h.close();
  await rm(dir, { recursive: true, force: true });
}
