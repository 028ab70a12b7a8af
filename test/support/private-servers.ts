import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  createTestDatabase,
  createTestRedis,
  type NatsServerOptions,
  type NatsServerProcess,
  startNatsServer,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { sleep } from "./kill-history.js";
import { type RegistryProcess, registryAuth, startRegistryProcess } from "./registry-process.js";
import { freePort } from "./service-process.js";

const run = promisify(execFile);

/**
 * Redis and Postgres servers of a test's own, to kill and freeze (never the machine's shared ones):
 * a redis-server on a free port, and a throwaway Postgres cluster (initdb into a temp dir, pg_ctl
 * on a free port). Each can be SIGKILLed, SIGSTOPped and resumed, and started again on the same
 * port (and, for Postgres, the same data directory: a crash recovery). And a nats-server of the
 * test's own with a registry on it, for the faults that break NATS itself.
 */
export interface PrivateServer {
  url: string;
  port: number;
  /** SIGKILL every process of the server: no flush, no goodbye to clients. */
  kill(): Promise<void>;
  /** SIGSTOP every process: connections stay open and nothing answers. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Start again where it was (after `kill`). */
  start(): Promise<void>;
  /** Stop it and remove its files. */
  close(): Promise<void>;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** redis-server without persistence: a kill loses the cache, as a crashed cache would. */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await waitUntil(
      async () => (await run("redis-cli", ["-p", String(port), "ping"])).stdout.trim() === "PONG",
      "redis-server",
    );
  };
  const signal = async (sig: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (sig === "SIGKILL") {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill(sig);
      await exited;
    } else child.kill(sig);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => signal("SIGKILL"),
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    start: launch,
    async close() {
      await signal("SIGCONT");
      await signal("SIGKILL");
    },
  };
}

/** As root, Postgres's tools must run as the postgres user (they refuse root). */
const asPostgres = (command: string, args: string[]) =>
  process.getuid?.() === 0 ? run("runuser", ["-u", "postgres", "--", command, ...args]) : run(command, args);

/** The postmaster and every process it started (their pids), read from the cluster's own files. */
async function clusterPids(data: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(data, "postmaster.pid"), "utf8")).split("\n")[0]);
  const children = (
    await run("ps", ["-o", "pid=", "--ppid", String(postmaster)]).catch(() => ({ stdout: "" }))
  ).stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
  return [postmaster, ...children];
}

const signalAll = (pids: number[], sig: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {} // already gone
  }
};

/** A throwaway Postgres cluster (trust authentication, user postgres) on a free port. */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const dir = await mkdtemp(join(tmpdir(), "nexus-private-pg-"));
  if (process.getuid?.() === 0) await chown(dir, ...(await postgresIds()));
  const data = join(dir, "data");
  const port = await freePort();
  await asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const launch = async () => {
    await asPostgres("pg_ctl", [
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]);
  };
  await launch();
  let paused: number[] = [];
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async kill() {
      const pids = await clusterPids(data);
      signalAll(pids, "SIGKILL");
      // Gone when none of them is left (their shared memory with them): then it can start again.
      await waitUntil(
        async () =>
          pids.every((pid) => {
            try {
              process.kill(pid, 0);
              return false;
            } catch {
              return true;
            }
          }),
        "the killed cluster's exit",
      );
    },
    async pause() {
      paused = await clusterPids(data);
      signalAll(paused, "SIGSTOP");
    },
    async resume() {
      signalAll(paused, "SIGCONT");
      paused = [];
    },
    start: launch,
    async close() {
      signalAll(paused, "SIGCONT");
      await asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<[number, number]> {
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return [Number(uid.stdout.trim()), Number(gid.stdout.trim())];
}

/**
 * A private nats-server (JetStream) with the real registry on it (built, as up.sh starts it), a
 * test database and Redis key prefix: what the fault tests that kill, wipe, fill or cut off NATS
 * share. The test adds its drift-detector with `detectorEnv` (and its own network set-up, if any).
 */
export interface PrivateNatsSystem {
  nats: NatsServerProcess;
  db: TestDatabase;
  registry: RegistryProcess;
  prefix: string;
  /** NATS, prefix and database for a drift-detector on this system (reconciling every 500 ms). */
  detectorEnv: Record<string, string>;
  /** A request to the registry as its bootstrap admin (a JSON body when given; 20 s at most). */
  send(method: string, path: string, body?: unknown): Promise<Response>;
  /** The drift-detector's head revision of `namespace` in production (0 before any). */
  head(namespace: string): Promise<number>;
  /** Stop the registry, kill nats-server (a hung one ignores SIGTERM), drop the database and keys. */
  close(): Promise<void>;
}

export async function startPrivateNatsSystem(options: {
  binary: string;
  prefix: string;
  nats?: NatsServerOptions;
}): Promise<PrivateNatsSystem> {
  const { prefix } = options;
  let nats: NatsServerProcess | undefined;
  let db: TestDatabase | undefined;
  let redis: TestRedis | undefined;
  let registry: RegistryProcess | undefined;
  const close = async () => {
    await registry?.stop();
    await nats?.kill();
    await nats?.stop();
    await Promise.allSettled([db?.drop(), redis?.cleanup()]);
  };
  try {
    nats = await startNatsServer(options.binary, "jetstream {}\n", {}, options.nats);
    [db, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestRedis(),
    ]);
    const auth = registryAuth();
    registry = await startRegistryProcess(
      {
        ...auth.env,
        NATS_URL: nats.url,
        NATS_PREFIX: prefix,
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: REGISTRY_SCHEMA,
        REDIS_KEY_PREFIX: redis.keyPrefix,
      },
      { built: true },
    );
    const [url, pool] = [registry.url, db.pool];
    return {
      nats,
      db,
      registry,
      prefix,
      detectorEnv: {
        NATS_URL: nats.url,
        NATS_PREFIX: prefix,
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: "drift_detector",
        RECONCILE_INTERVAL_MS: "500",
      },
      send: (method, path, body) =>
        fetch(`${url}${path}`, {
          method,
          headers: { ...auth.headers, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        }),
      head: async (namespace) =>
        (
          await pool.query<{ revision: number }>(
            "SELECT revision FROM drift_detector.heads WHERE namespace = $1 AND environment = 'production'",
            [namespace],
          )
        ).rows[0]?.revision ?? 0,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
