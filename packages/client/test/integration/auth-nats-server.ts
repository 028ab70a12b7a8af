import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import { type NatsServerProcess, startNatsServer } from "@nexus/test-fixtures";
import bcrypt from "bcryptjs";

/** The config this repository ships; the test server runs its users and permissions unchanged. */
export const SHIPPED_AUTH_CONFIG = fileURLToPath(
  new URL("../../../../infra/nats/nats-server.auth.conf", import.meta.url),
);

/**
 * The shipped config with only what a test run must own taken out: the listen address and the
 * JetStream store (given as -a/-p/-sd instead) and the monitoring port. Each user's password
 * variable is listed so the test can set it, as an operator would, in the server's environment.
 */
export function testConfigFrom(shipped: string): { text: string; passwordVariables: Map<string, string> } {
  let text = shipped;
  for (const line of [/^listen:.*$/m, /^http:.*$/m, /^\s*store_dir:.*$/m]) {
    if (!line.test(text)) {
      throw new Error(`the shipped NATS config has no line matching ${line}; update ${import.meta.filename}`);
    }
    text = text.replace(line, "");
  }
  const passwordVariables = new Map<string, string>();
  for (const m of shipped.matchAll(/user:\s*([\w-]+)[,\s]+password:\s*\$([A-Z0-9_]+)/g)) {
    passwordVariables.set(m[1]!, m[2]!);
  }
  if (passwordVariables.size === 0) {
    throw new Error("the shipped NATS config names no user with a $PASSWORD variable");
  }
  return { text, passwordVariables };
}

export interface AuthNats extends NatsServerProcess {
  /** The users of the shipped config, with the passwords this run gave them. */
  passwords: ReadonlyMap<string, string>;
  /** A connection as one of the shipped users (extra options override). */
  connectAs(user: string, extra?: Partial<ConnectionOptions>): Promise<NatsConnection>;
}

/** nats-server with JetStream, on a free port and its own store, running the shipped permissions. */
export async function startAuthNats(binary: string): Promise<AuthNats> {
  const { text, passwordVariables } = testConfigFrom(await readFile(SHIPPED_AUTH_CONFIG, "utf8"));
  // As documented in the shipped file: each variable holds a bcrypt hash, quoted, never the password.
  const passwords = new Map<string, string>();
  const env: Record<string, string> = {};
  for (const [user, variable] of passwordVariables) {
    const password = `test-${user}-${randomBytes(6).toString("hex")}`;
    passwords.set(user, password);
    env[variable] = `"${bcrypt.hashSync(password, 4)}"`;
  }
  const server = await startNatsServer(binary, text, env);
  return {
    ...server,
    passwords,
    connectAs(user, extra = {}) {
      const pass = passwords.get(user);
      if (!pass) throw new Error(`the shipped NATS config has no user ${user}`);
      return connect({
        servers: server.url,
        user,
        pass,
        name: `test/${user}`,
        noAsyncTraces: true,
        ...extra,
      });
    },
  };
}
