import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = "examples/hello-service/src/main.ts";

export interface HelloServiceProcess {
  child: ChildProcess;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  /** Resolves with the first log line (parsed) for which `match` is true. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** GET / of its HTTP server. */
  greeting(): Promise<{ greeting: string; revision: number; hash: string; source: string }>;
  stop(): Promise<void>;
}

/** The example service as its own process, started the way a user would start it. */
export async function startHelloService(env: Record<string, string>): Promise<HelloServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d;
    for (const l of listeners) l();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const lines = () =>
    output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const waitForLog: HelloServiceProcess["waitForLog"] = (match, what, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines().find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (child.exitCode !== null) {
          cleanup();
          reject(new Error(`hello-service exited (${child.exitCode}) before ${what}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`hello-service: no ${what} within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off("exit", check);
      };
      listeners.add(check);
      child.on("exit", check);
      check();
    });

  const listening = await waitForLog((l) => l.msg === "hello-service listening", "HTTP listener");
  const url = String(listening.url);
  return {
    child,
    output: () => output,
    waitForLog,
    async greeting() {
      const res = await fetch(url);
      return (await res.json()) as Awaited<ReturnType<HelloServiceProcess["greeting"]>>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
