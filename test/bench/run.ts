/**
 * Nexus benchmark: each figure of the registry next to a baseline measured in the same run, as a
 * ratio. `pnpm bench` (BENCH_SECONDS per measured phase, default 5). See test/bench/README.md.
 *
 * Exits 0 when the run completed, whatever the figures; non-zero on errors (non-2xx responses,
 * connection errors, missing events, a mismatch between the two read bodies, ...).
 */
import { randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { startBareWrite } from "./baseline.js";
import { faninPhase } from "./fanin-phase.js";
import { readPhase } from "./read-phase.js";
import {
  cleanup,
  type Resources,
  type Row,
  seedNamespace,
  startLoadProcess,
  startRegistry,
} from "./run-resources.js";
import {
  checkOnly,
  LOG_LEVEL,
  log,
  ONLY,
  READ_NAMESPACE,
  SECONDS,
  WATCHDOG_MS,
  WRITERS,
} from "./run-settings.js";
import { printTable } from "./table.js";

checkOnly(["read", "write", "fanin"]);

import { writePhase } from "./write-phase.js";

// ---------------------------------------------------------------------------------------------

let abandonCode: number | undefined;

async function main(): Promise<number> {
  process.env.NEXUS_TEST_RUN_ID ??= `bench${randomBytes(3).toString("hex")}`;
  const res: Resources = { servers: [] };
  // However the run ends, what it created goes, once; an interrupted run exits with its own code.
  let cleaning: Promise<void> | undefined;
  const cleanOnce = () => {
    cleaning ??= cleanup(res);
    return cleaning;
  };
  const abandon = (why: string, code: number) => {
    if (abandonCode !== undefined) return;
    abandonCode = code;
    log(`\n${why}: cleaning up`);
    void cleanOnce().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => abandon("SIGINT", 130));
  process.once("SIGTERM", () => abandon("SIGTERM", 143));
  process.on("uncaughtException", (err) => abandon(`uncaught exception: ${err.stack ?? err.message}`, 1));
  process.on("unhandledRejection", (err) => abandon(`unhandled rejection: ${String(err)}`, 1));
  // Output piped into something that closes early (`| head`) must not stop the clean-up.
  process.stdout.on("error", () => undefined);
  const watchdog = setTimeout(
    () => abandon(`the benchmark did not finish within ${WATCHDOG_MS / 1_000} s`, 2),
    WATCHDOG_MS,
  );
  watchdog.unref();

  try {
    const cores = availableParallelism();
    log(
      `Nexus benchmark, ${new Date().toISOString()}, node ${process.version}, ${cores} cores (${cpus()[0]?.model.trim()}), ` +
        `BENCH_SECONDS=${SECONDS}, registry log level ${LOG_LEVEL}`,
    );
    log(
      `The servers (registry and baselines) run in this process, the load generator in a child process: ` +
        `separate event loops, but they share the machine's ${cores} cores with each other and with Postgres, NATS and Redis.`,
    );
    const registryUrl = await startRegistry(res);
    if (ONLY === "fanin") {
      const baseline = await startBareWrite({
        databaseUrl: res.db!.url,
        nats: res.baselineNats!,
        poolSize: 10,
      });
      res.servers.push(baseline);
      printTable(await faninPhase(res, registryUrl, baseline.url));
      return 0;
    }
    for (const name of [READ_NAMESPACE, ...Array.from({ length: WRITERS }, (_, i) => `bench-w${i + 1}`)]) {
      await seedNamespace(registryUrl, name);
    }
    const baseline = await startBareWrite({
      databaseUrl: res.db!.url,
      nats: res.baselineNats!,
      poolSize: 10,
    });
    res.servers.push(baseline);
    res.load = startLoadProcess();

    const rows: Row[] = [];
    if (ONLY !== "write") rows.push(...(await readPhase(res, registryUrl)));
    if (ONLY !== "read") rows.push(...(await writePhase(res, registryUrl, baseline.url, baseline.subject)));
    printTable(rows);
    return 0;
  } catch (err) {
    if (abandonCode !== undefined) return abandonCode; // interrupted: already said why
    log(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await cleanOnce();
  }
}

// Exit explicitly: a keep-alive socket or timer left by a library must not keep the run alive.
const code = await main();
process.exit(abandonCode ?? code);
