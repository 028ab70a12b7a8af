import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import bcrypt from "bcryptjs";

/** The config this repository ships; the test server runs its users and permissions unchanged. */
export const SHIPPED_AUTH_CONFIG = fileURLToPath(
  new URL("../../../../infra/nats/nats-server.auth.conf", import.meta.url),
);

/** nats-server on this machine: Debian's /usr/sbin/nats-server, or one on PATH. */
export function natsServerBinary(): string | undefined {
  const candidates = [
    "/usr/sbin/nats-server",
    ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "nats-server")),
  ];
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The shipped config with only what a test run must own taken out: the listen address and the
 * JetStream store (given as -a/-p/-sd instead) and the monitoring port. Each user's password
 * variable is listed so the test can set it, as an operator would, in the server's environment.
 */
export function testConfigFrom(shipped: string): { text: string; passwordVariables: Map<string, string> } {
  let text = shipped;
  for (const line of [/^listen:.*$/m, /^http:.*$/m, /^\s*store_dir:.*$/m]) {
    if (!line.test(text))
      throw new Error(`the shipped NATS config has no line matching ${line}; update ${import.meta.filename}`);
    text = text.replace(line, "");
  }
  const passwordVariables = new Map<string, string>();
  for (const m of shipped.matchAll(/user:\s*([\w-]+)[,\s]+password:\s*\$([A-Z0-9_]+)/g)) {
    passwordVariables.set(m[1]!, m[2]!);
  }
  if (passwordVariables.size === 0)
    throw new Error("the shipped NATS config names no user with a $PASSWORD variable");
  return { text, passwordVariables };
}

export interface AuthNats {
  url: string;
  /** The users of the shipped config, with the passwords this run gave them. */
  passwords: ReadonlyMap<string, string>;
  /** A connection as one of the shipped users (extra options override). */
  connectAs(user: string, extra?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** What the server wrote to stdout/stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** nats-server with JetStream, on a free port and its own store, running the shipped permissions. */
export async function startAuthNats(binary: string): Promise<AuthNats> {
  const dir = await mkdtemp(join(tmpdir(), "nexus-nats-auth-"));
  const { text, passwordVariables } = testConfigFrom(await readFile(SHIPPED_AUTH_CONFIG, "utf8"));
  const configFile = join(dir, "nats-server.conf");
  await writeFile(configFile, text);

  // As documented in the shipped file: each variable holds a bcrypt hash, quoted, never the password.
  const passwords = new Map<string, string>();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [user, variable] of passwordVariables) {
    const password = `test-${user}-${randomBytes(6).toString("hex")}`;
    passwords.set(user, password);
    env[variable] = `"${bcrypt.hashSync(password, 4)}"`;
  }

  const port = await freePort();
  const child = spawn(
    binary,
    ["-c", configFile, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "jetstream")],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const keep = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  try {
    await waitForReady(child, () => output);
  } catch (err) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const url = `nats://127.0.0.1:${port}`;
  return {
    url,
    passwords,
    connectAs(user, extra = {}) {
      const pass = passwords.get(user);
      if (!pass) throw new Error(`the shipped NATS config has no user ${user}`);
      return connect({ servers: url, user, pass, name: `test/${user}`, noAsyncTraces: true, ...extra });
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
