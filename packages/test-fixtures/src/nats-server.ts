import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { testConfig } from "./config.js";
import { freePort } from "./free-port.js";

/** nats-server on this machine: Debian's /usr/sbin/nats-server (what ensure-infra.sh installs), or one on PATH. */
export function natsServerBinary(): string | undefined {
  const onPath = testConfig.path.split(delimiter).map((d) => join(d, "nats-server"));
  return ["/usr/sbin/nats-server", ...onPath].find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface NatsServerProcess {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  /** What the server wrote to stdout/stderr so far. */
  output(): string;
  /** SIGTERM, wait for the exit, remove the config and the JetStream store. */
  stop(): Promise<void>;
  /** SIGKILL (a crash): no flush, no goodbye to clients. */
  kill(): Promise<void>;
  /** SIGSTOP: the server hangs (a stalled VM, a GC pause, a full disk's blocked write); connections stay open. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Start again on the same port; `wipe` first deletes the JetStream store (a lost disk). */
  restart(options?: { wipe?: boolean }): Promise<void>;
}

export interface NatsServerOptions {
  /** The address it listens on (default 127.0.0.1): another one for clients in a network namespace. */
  host?: string;
  /** Where JetStream stores its streams (default: under the server's temp dir), e.g. a small disk. */
  storeDir?: string;
}

/**
 * A nats-server of a test's own (for what the shared test server cannot do: users, permissions),
 * as a child process: `nats-server -c <config> -a 127.0.0.1 -p <free port> -js -sd <temp dir>`.
 * The config must leave the listen address and store_dir out. `env` is the server's whole
 * environment besides PATH (variables the config references as `$NAME`).
 */
export async function startNatsServer(
  binary: string,
  config: string,
  env: Record<string, string> = {},
  options: NatsServerOptions = {},
): Promise<NatsServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), "nexus-nats-server-"));
  const configFile = join(dir, "nats-server.conf");
  await writeFile(configFile, config);
  const port = await freePort();
  const host = options.host ?? "127.0.0.1";
  const store = options.storeDir ?? join(dir, "jetstream");
  let output = "";
  const launch = async (): Promise<ChildProcess> => {
    const started = output.length;
    const child = spawn(binary, ["-c", configFile, "-a", host, "-p", String(port), "-js", "-sd", store], {
      env: { PATH: testConfig.path, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    try {
      await waitForReady(child, () => output.slice(started));
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
    return child;
  };
  const end = async (child: ChildProcess, signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  };
  let child: ChildProcess;
  try {
    child = await launch();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `nats://${host}:${port}`,
    output: () => output,
    async stop() {
      await end(child, "SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
    kill: () => end(child, "SIGKILL"),
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    async restart(options = {}) {
      await end(child, "SIGKILL");
      if (options.wipe) await rm(store, { recursive: true, force: true });
      child = await launch();
    },
  };
}

function waitForReady(child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (output().includes("Server is ready")) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`nats-server did not start (exit code ${child.exitCode}):\n${output()}`));
      }
    }, 25);
  });
}
