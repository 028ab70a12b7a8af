import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = "services/config-registry/src/main.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * What a registry process needs to authenticate: a token key and a bootstrap admin token, the way
 * an operator sets them. Keep one per database: the key must stay the same across restarts.
 */
export function registryAuth(): {
  env: Record<string, string>;
  token: string;
  headers: Record<string, string>;
} {
  const token = `nxs_${randomBytes(8).toString("hex")}_${randomBytes(32).toString("base64url")}`;
  return {
    env: { AUTH_TOKEN_KEY: randomBytes(32).toString("base64"), NEXUS_BOOTSTRAP_TOKEN: token },
    token,
    headers: { authorization: `Bearer ${token}` },
  };
}

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no shutdown hooks, no flush; what a crash or OOM kill looks like. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** The real service, as its own process, started the way scripts/up.sh starts it. */
export async function startRegistryProcess(env: Record<string, string>): Promise<RegistryProcess> {
  // A given PORT restarts the registry where its clients already point.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`config-registry exited during start-up:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`config-registry did not become ready within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
