/**
 * Every Nexus service as scripts/up.sh starts it, each its own process: node on the built
 * dist/main.js with the arguments of the service's `start` script (up.sh runs that script through
 * pnpm; here node is spawned directly, so no idle pnpm parent sits in the process table), the same
 * environment (one database, NATS, Redis; LOG_LEVEL=info; credentials split per service as up.sh
 * splits .nexus/credentials.env), each service's log appended to a file of its own. Only the
 * names differ: this run's database, NATS prefix, Redis key prefix, free ports and fresh
 * credentials (never the installation's .nexus/credentials.env).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../support/service-process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** up.sh's order: the registry first (the orchestrator's token comes from it), the monitor late. */
export const SERVICE_NAMES = [
  "config-registry",
  "drift-detector",
  "notifier",
  "backup",
  "monitor",
  "orchestrator",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface RunningService {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  log: string;
}

export interface System {
  services: Map<ServiceName, RunningService>;
  /** The bootstrap admin token (what up.sh prints as the way in). */
  token: string;
  registryUrl: string;
  stop(): Promise<void>;
}

export interface SystemOptions {
  databaseUrl: string;
  natsPrefix: string;
  redisKeyPrefix: string;
  natsUrl: string;
  redisUrl: string;
  /** Logs and the backup directory. */
  workDir: string;
  logLevel: string;
}

const key = (kid: string) => `${kid}:${randomBytes(32).toString("base64")}`;

/** `node <args of the start script>`, run in the service's folder like `pnpm --filter … start`. */
function startArgs(name: ServiceName): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "services", name, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const [bin, ...args] = pkg.scripts.start.split(/\s+/);
  if (bin !== "node") throw new Error(`${name}: the start script does not run node: ${pkg.scripts.start}`);
  return [...SERVICE_NODE_ARGS, ...args];
}

/**
 * `BENCH_SERVICE_NODE_ARGS`: extra node options for every service (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` (Node refuses --cpu-prof in NODE_OPTIONS). Profiles are
 * written when a service exits on the run's SIGTERM.
 */
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

async function ready(service: RunningService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.child.exitCode !== null) {
      const tail = readFileSync(service.log, "utf8").split("\n").slice(-30).join("\n");
      throw new Error(`${service.name} exited during start-up; last lines of ${service.log}:\n${tail}`);
    }
    const ok = await fetch(`${service.url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${service.name} was not ready within ${timeoutMs / 1_000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startSystem(options: SystemOptions, running: ChildProcess[]): Promise<System> {
  const ports = new Map<ServiceName, number>();
  for (const name of SERVICE_NAMES) ports.set(name, await freePort());
  const url = (name: ServiceName) => `http://127.0.0.1:${ports.get(name)}`;
  const token = `nxs_${randomBytes(8).toString("hex")}_${randomBytes(32).toString("base64url")}`;
  const common = {
    DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl,
    REDIS_URL: options.redisUrl,
    NATS_PREFIX: options.natsPrefix,
    REDIS_KEY_PREFIX: options.redisKeyPrefix,
    LOG_LEVEL: options.logLevel,
    AUTH_TOKEN_KEY: randomBytes(32).toString("base64"),
    // The one setting changed: the benchmark sends everything with one token, faster than the
    // default 6,000 requests per minute per token. The limit stays on (its Redis count is paid on
    // every request, as by default) but never refuses.
    RATE_LIMIT_PER_MINUTE: "100000000",
  };
  const own: Record<ServiceName, Record<string, string>> = {
    "config-registry": {
      NEXUS_BOOTSTRAP_TOKEN: token,
      SECRETS_MASTER_KEYS: key("kbench"),
      SECRETS_ACTIVE_KEY_ID: "kbench",
    },
    "drift-detector": {},
    notifier: { NOTIFIER_SECRETS_KEY: key("nbench") },
    backup: {
      BACKUP_ENCRYPTION_KEY: key("bbench"),
      BACKUP_DIR: join(options.workDir, "backups"),
      REGISTRY_URL: url("config-registry"),
    },
    monitor: {
      DRIFT_DETECTOR_URL: url("drift-detector"),
      NOTIFIER_URL: url("notifier"),
      REGISTRY_URL: url("config-registry"),
      ORCHESTRATOR_URL: url("orchestrator"),
      DASHBOARD_URL: `${url("monitor")}/dashboard`,
    },
    orchestrator: { ORCHESTRATOR_HOOK_KEY: randomBytes(32).toString("base64url") },
  };
  const services = new Map<ServiceName, RunningService>();
  const system: System = {
    services,
    token,
    registryUrl: url("config-registry"),
    async stop() {
      await Promise.all(
        [...services.values()].map(async ({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
  for (const name of SERVICE_NAMES) {
    if (name === "orchestrator") {
      // As scripts/orchestrator-token.sh: a viewer token of its own, made once the registry answers.
      own.orchestrator.ORCHESTRATOR_API_TOKEN = await orchestratorToken(system.registryUrl, token);
    }
    const log = join(options.workDir, `${name}.log`);
    const fd = openSync(log, "a");
    const child = spawn(process.execPath, startArgs(name), {
      cwd: join(ROOT, "services", name),
      env: { ...process.env, ...common, ...own[name], PORT: String(ports.get(name)) },
      // Straight into the file, as up.sh's `>>log 2>&1`: the service pays its own log writes.
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    running.push(child);
    const service: RunningService = { name, url: url(name), child, log };
    services.set(name, service);
    if (name === "config-registry") await ready(service, 60_000);
  }
  for (const service of services.values()) await ready(service, 60_000);
  return system;
}

async function orchestratorToken(registryUrl: string, bootstrap: string): Promise<string> {
  const res = await fetch(`${registryUrl}/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "orchestrator", owner: "orchestrator", grants: ["viewer:*:*"] }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/tokens answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { token: string }).token;
}
