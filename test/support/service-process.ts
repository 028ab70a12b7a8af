import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "@nexus/test-fixtures";

export { freePort };

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no shutdown hooks, no flush; what a crash or OOM kill looks like. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * How a service's `src/main.ts` is started: through tsx (the default: no build step, so tests see
 * the current sources), or `built` from `pnpm build`'s dist/main.js with plain node, the way
 * scripts/up.sh and the image start it.
 */
function commandFor(main: string, built: boolean): string[] {
  if (!built) return ["--import", "tsx", main];
  const dist = main.replace(/\/src\/main\.ts$/, "/dist/main.js");
  if (dist === main) throw new Error(`${main}: a built start needs a src/main.ts entry`);
  return ["--conditions=nexus-dist", "--enable-source-maps", dist];
}

/**
 * A Nexus service (`main`, from the repository root) as its own process, ready once `/readyz`
 * answers. A given PORT restarts a service where its clients already point.
 */
export async function startServiceProcess(
  name: string,
  main: string,
  env: Record<string, string>,
  options: {
    onOutput?: (text: string) => void;
    built?: boolean;
    readyTimeoutMs?: number;
    /** A command the service runs under, e.g. `ip netns exec <name>` (it must exec, keeping the pid). */
    wrap?: string[];
  } = {},
): Promise<ServiceProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const [command, ...args] = [
    ...(options.wrap ?? []),
    process.execPath,
    ...commandFor(main, options.built ?? false),
  ];
  const child = spawn(command!, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", HOST: "127.0.0.1", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
    options.onOutput?.(String(d));
  });
  child.stderr?.on("data", (d) => {
    output += d;
    options.onOutput?.(String(d));
  });
  const url = `http://${env.HOST ?? "127.0.0.1"}:${port}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Generous by default: a loaded 2-core CI machine starting twelve processes at once is slow.
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not become ready within ${readyTimeoutMs / 1_000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
