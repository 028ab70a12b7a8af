/**
 * Promotion benchmark: a pipeline (promote → wait-applied 100 % → health-gate) copies the staging
 * overlay of a namespace whose resolved config is about 1 MiB into production, where 200
 * @nexus/client instances (HTTP reads, 4 processes) run it. Measured per round: time from starting
 * the run to the last instance's applied-ack, to the run's success (100 % applied and
 * health-gated), and the orchestrator's own time beyond waiting for the instances. Baseline, same
 * run, interleaved: the same change written straight into the production overlay (PUT) → the last
 * instance's applied-ack.
 *
 *   pnpm exec tsx test/bench/promotion.ts      # BENCH_CLIENTS=200 BENCH_WORKERS=4 BENCH_ROUNDS=3
 *
 * See test/bench/README.md, "(k) Promotion".
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { startWorld, type World } from "../../services/orchestrator/test/integration/harness.js";
import type { FromWorker, ToWorker } from "./fanout-protocol.js";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const WORKERS = Math.min(Number(process.env.BENCH_WORKERS ?? 4), CLIENTS);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NS = "bench-promo";
/** Bytes of each of the two layers (base, overlay); the resolved config is about twice this. */
const LAYER_BYTES = Number(process.env.BENCH_LAYER_BYTES ?? 500_000);
const TARGET_STEP_OVERHEAD_MS = 100;
const log = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`[promotion bench] ${line}\n`);

/** About half a MiB of JSON in `count` entries (two such layers resolve to about 1 MiB). */
function bulk(prefix: string, bytes: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const value = "x".repeat(200);
  for (let i = 0; JSON.stringify(out).length < bytes; i++)
    for (let j = 0; j < 100; j++) out[`${prefix}_${i}_${j}`] = { value, n: i * 100 + j };
  return out;
}

function startWorker(): { child: ChildProcess; next(): Promise<FromWorker> } {
  const child = fork(fileURLToPath(new URL("./fanout-worker.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: FromWorker[] = [];
  const waiting: ((m: FromWorker) => void)[] = [];
  child.on("message", (m: FromWorker) => (waiting.shift() ?? ((x: FromWorker) => inbox.push(x)))(m));
  return {
    child,
    next: () => {
      const m = inbox.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const world: World = await startWorld();
  const workers: ReturnType<typeof startWorker>[] = [];
  const nc = await connect({ servers: TEST_NATS_URL, name: "promotion-bench-observer" });
  try {
    await world.startOrchestrator({ watchPollMs: 50, runPollMs: 20 });
    const prefix = world.registry.nats.prefix;
    const admin = await world.issuer.token(["admin"], { subject: "bench" });
    const must = async (p: Promise<{ status: number; body: unknown }>, what: string) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as Record<string, unknown>;
    };
    await must(world.registryCall("POST", "/v1/namespaces", { name: NS }), "namespace");
    await must(
      world.registryCall("PUT", `/v1/namespaces/${NS}/layers/base`, bulk("base", LAYER_BYTES)),
      "base",
    );
    const overlay = bulk("app", LAYER_BYTES);
    await must(
      world.registryCall("PUT", `/v1/namespaces/${NS}/layers/staging`, { ...overlay, version: 0 }),
      "staging",
    );
    await must(
      world.registryCall("PUT", `/v1/namespaces/${NS}/layers/production`, { ...overlay, version: 0 }),
      "production",
    );
    progress("seeded");
    const size = Buffer.byteLength(
      JSON.stringify(
        (
          await must(
            world.registryCall("GET", `/v1/namespaces/${NS}/environments/production/resolved`),
            "read",
          )
        ).content,
      ),
    );
    await must(
      world.call(
        "POST",
        "/v1/pipelines",
        {
          name: "bench-promo",
          namespace: NS,
          source: "staging",
          target: "production",
          steps: [
            { type: "promote" },
            { type: "wait-applied", percent: 100, minInstances: CLIENTS, timeoutSeconds: 120 },
            { type: "health-gate", bakeSeconds: 0 },
          ],
        },
        admin,
      ),
      "pipeline",
    );

    // Applied-acks as they arrive: per hash, when each instance acked it.
    const acks = new Map<string, Map<string, number>>();
    nc.subscribe(`${prefix}.config.applied.production.${NS}`, {
      callback: (_e, m) => {
        const d = (JSON.parse(m.string()) as { data: { hash: string; instanceId: string; status: string } })
          .data;
        if (d.status !== "applied") return;
        const per = acks.get(d.hash) ?? new Map<string, number>();
        acks.set(d.hash, per);
        if (!per.has(d.instanceId)) per.set(d.instanceId, Date.now());
      },
    });
    const token = await world.registry.tokenFor([`viewer:${NS}:*`], {
      name: "bench-clients",
      owner: "bench",
    });
    const per = Math.ceil(CLIENTS / WORKERS);
    for (let w = 0; w < WORKERS; w++) {
      const worker = startWorker();
      workers.push(worker);
      worker.child.send({
        type: "start",
        mode: "sdk",
        clients: Math.min(per, CLIENTS - w * per),
        worker: w,
        registryUrl: world.registryUrl,
        token,
        natsUrl: TEST_NATS_URL,
        prefix,
        namespace: NS,
        environment: "production",
        sharedNats: true,
        read: "http",
      } satisfies ToWorker);
      // One process at a time: 200 first reads of 1 MiB at once would time out on 2 cores.
      const m = await worker.next();
      progress(`worker ${w}: ${JSON.stringify(m)}`);
      if (m.type !== "ready") throw new Error(`worker: ${JSON.stringify(m)}`);
    }

    const lastAck = async (hash: () => Promise<string>, from: number) => {
      const h = await hash();
      for (;;) {
        const got = acks.get(h);
        if (got && got.size >= CLIENTS) return Math.max(...got.values()) - from;
        if (Date.now() - from > 120_000)
          throw new Error(`only ${got?.size ?? 0} of ${CLIENTS} instances acked ${h} within 120 s`);
        await sleep(5);
      }
    };
    const productionHash = async () => (await world.resolved(NS, "production")).hash;

    const rows: {
      kind: string;
      appliedMs: number;
      totalMs?: number;
      overheadMs?: number;
      promoteMs?: number;
      detectMs?: number;
      gapsMs?: number;
      gateMs?: number;
      writeMs?: number;
    }[] = [];
    let lastPutMs = 0;
    let version = 0;
    for (let round = 0; round < ROUNDS + 1; round++) {
      const warm = round === 0;
      // Baseline: the same kind of change straight into production.
      version += 1;
      let t0 = Date.now();
      await must(
        world.registryCall("PUT", `/v1/namespaces/${NS}/layers/production`, { ...overlay, version }),
        "baseline write",
      );
      // The registry's own cost of writing this layer: the promote step pays it too.
      lastPutMs = Date.now() - t0;
      const base = await lastAck(productionHash, t0);
      progress(`round ${round}: baseline ${base} ms`);
      if (!warm) rows.push({ kind: "baseline", appliedMs: base });

      // Promotion of a new staging revision.
      version += 1;
      await must(
        world.registryCall("PUT", `/v1/namespaces/${NS}/layers/staging`, { ...overlay, version }),
        "staging write",
      );
      t0 = Date.now();
      const started = await must(world.call("POST", "/v1/pipelines/bench-promo/runs", {}, admin), "run");
      const id = started.id as string;
      let run: Record<string, unknown> & { steps: Record<string, string>[] };
      for (;;) {
        const got = await world.call("GET", `/v1/runs/${id}`, undefined, admin);
        if (got.status !== 200) {
          // A loaded machine can make a read fail (a pool timeout); the run goes on regardless.
          progress(`reading run ${id}: ${got.status} ${JSON.stringify(got.body)}`);
          await sleep(200);
          continue;
        }
        run = got.body;
        if (run.status !== "running") break;
        if (Date.now() - t0 > 180_000)
          throw new Error(`run ${id} still running: ${JSON.stringify(run.steps)}`);
        await sleep(20);
      }
      if (run.status !== "succeeded") throw new Error(`run ${id}: ${run.status} ${run.failure}`);
      const applied = await lastAck(productionHash, t0);
      progress(
        `round ${round}: promotion applied ${applied} ms, succeeded ${Date.parse(run.finishedAt as string) - t0} ms`,
      );
      const at = (s: string | undefined) => Date.parse(s ?? "");
      const [promote, wait, gate] = run.steps as Record<string, string>[];
      const end = at(run.finishedAt as string);
      const total = end - t0;
      const promoteMs = at(promote!.finishedAt) - t0;
      const detectMs = at(wait!.finishedAt) - (t0 + applied);
      const gapsMs =
        at(gate!.startedAt) - at(wait!.finishedAt) + (at(wait!.startedAt) - at(promote!.finishedAt));
      const gateMs = end - at(gate!.startedAt);
      // Everything but waiting for the instances: from the write's end to the last ack is theirs.
      const overheadMs = total - (applied - promoteMs);
      if (!warm)
        rows.push({
          kind: "promotion",
          appliedMs: applied,
          totalMs: total,
          overheadMs,
          promoteMs,
          detectMs,
          gapsMs,
          gateMs,
          writeMs: lastPutMs,
        });
    }

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const of = (k: string, f: keyof (typeof rows)[number]) =>
      mean(rows.filter((r) => r.kind === k).map((r) => Number(r[f] ?? 0)));
    const baseline = of("baseline", "appliedMs");
    const promoApplied = of("promotion", "appliedMs");
    const total = of("promotion", "totalMs");
    const overhead = of("promotion", "overheadMs");
    log(
      `\n(h) Promotion of a ${(size / 1_048_576).toFixed(2)} MiB resolved config to ${CLIENTS} SDK instances (${WORKERS} processes), ${ROUNDS} rounds after 1 warm-up`,
    );
    log(`| measure | mean | per round |`);
    log(`|---|---|---|`);
    const list = (k: string, f: keyof (typeof rows)[number]) =>
      rows
        .filter((r) => r.kind === k)
        .map((r) => Math.round(Number(r[f])))
        .join(", ");
    log(
      `| baseline: PUT production → ${CLIENTS} applied | ${baseline.toFixed(0)} ms | ${list("baseline", "appliedMs")} |`,
    );
    log(
      `| promotion: run start → ${CLIENTS} applied | ${promoApplied.toFixed(0)} ms | ${list("promotion", "appliedMs")} |`,
    );
    log(
      `| promotion: run start → succeeded (applied + health-gated) | ${total.toFixed(0)} ms | ${list("promotion", "totalMs")} |`,
    );
    log(
      `|   promote step (run start, checks, reads, the registry write) | ${of("promotion", "promoteMs").toFixed(0)} ms | ${list("promotion", "promoteMs")} |`,
    );
    log(
      `|   wait-applied: last ack → step done (woken by the acks; poll 50 ms) | ${of("promotion", "detectMs").toFixed(0)} ms | ${list("promotion", "detectMs")} |`,
    );
    log(
      `|   between steps (commits, claims) | ${of("promotion", "gapsMs").toFixed(0)} ms | ${list("promotion", "gapsMs")} |`,
    );
    log(
      `|   health-gate (bake 0: one look) | ${of("promotion", "gateMs").toFixed(0)} ms | ${list("promotion", "gateMs")} |`,
    );
    log(
      `| orchestrator overhead beyond the wait | ${overhead.toFixed(0)} ms (${(overhead / 3).toFixed(0)} ms per step, target < ${TARGET_STEP_OVERHEAD_MS}: ${overhead / 3 < TARGET_STEP_OVERHEAD_MS ? "yes" : "no"}) | ${list("promotion", "overheadMs")} |`,
    );
    const ownMs = overhead - of("promotion", "writeMs");
    log(
      `|   the registry's write of the layer (the same round's baseline PUT) | ${of("promotion", "writeMs").toFixed(0)} ms | ${list("promotion", "writeMs")} |`,
    );
    log(
      `| orchestrator overhead beyond the wait and the registry's write | ${ownMs.toFixed(0)} ms (${(ownMs / 3).toFixed(0)} ms per step, target < ${TARGET_STEP_OVERHEAD_MS}: ${ownMs / 3 < TARGET_STEP_OVERHEAD_MS ? "yes" : "no"}) | |`,
    );
    log(`| ratio promotion applied / baseline applied | ${(promoApplied / baseline).toFixed(2)} | |`);
    log(`| ratio promotion succeeded / baseline applied | ${(total / baseline).toFixed(2)} | |`);
  } finally {
    for (const w of workers) w.child.send({ type: "stop" } satisfies ToWorker);
    await Promise.all(workers.map((w) => new Promise((r) => w.child.once("exit", r)).catch(() => undefined)));
    await nc.close().catch(() => undefined);
    await world.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
