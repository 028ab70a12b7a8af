import { readFileSync } from "node:fs";
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  type Status,
} from "@nats-io/transport-node";
import { type Logger, redactUrl } from "./logger.js";

export type { NatsConnection };

export interface NatsConfig {
  /** One server URL or a comma-separated list. */
  url: string;
  user?: string;
  password?: string;
  /** A `.creds` file (NATS_CREDS_FILE), read at each (re)connect so it can be rotated in place. */
  credsFile?: string;
  /** An nkey user seed (NATS_NKEY_SEED). */
  nkeySeed?: string;
  /** Client name shown in the server's monitoring pages. */
  name: string;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /**
   * Keep retrying when the first connection attempt fails (default true), so a service started
   * before NATS (docker compose, a host reboot) connects once it comes up instead of exiting.
   */
  waitOnFirstConnect?: boolean;
}

/**
 * Connect to NATS and never give up reconnecting: a service that lost the bus should come back
 * by itself once the server does, and report not-ready in the meantime (see natsHealthy).
 */
export async function connectNats(config: NatsConfig): Promise<NatsConnection> {
  const servers = config.url
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const shown = servers.map(redactServer).join(", ");
  const log = config.logger;
  log.info({ servers: shown, name: config.name }, "connecting to NATS");
  const open = () =>
    connect({
      servers,
      name: config.name,
      ...credentialsOf(config),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      reconnectJitter: 500,
      // A silent connection (a network partition drops packets: no reset, no close) is declared
      // stale after 2 unanswered pings 5 s apart, and replaced by a new one. Waiting instead for
      // the old TCP connection to come back leaves the service deaf for TCP's retransmission
      // backoff after the network heals (~20 s after a 30 s cut, measured: test/faults/nats-partition).
      pingInterval: 5_000,
      maxPingOut: 2,
      // A connection attempt into a partition hangs (its SYN is dropped): give up on it and try
      // again soon, so the first attempt after the network heals is a fresh one.
      timeout: 5_000,
      // Otherwise every request (each JetStream publish is one) builds two Error objects up front
      // for their stack traces: a measurable share of the CPU of a write. Our logs carry context.
      noAsyncTraces: true,
    });
  // Started before NATS (a host reboot, `docker compose up`): wait, and say so each time.
  const nc = await (config.waitOnFirstConnect === false ? open() : untilNatsReachable(open, shown, log));
  log.info({ server: redactServer(nc.getServer()), version: nc.info?.version }, "connected to NATS");
  void watchStatus(nc, log);
  return nc;
}

const UNREACHABLE = /refused|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|timeout|closed/i;

async function untilNatsReachable(
  open: () => Promise<NatsConnection>,
  where: string,
  log: NatsConfig["logger"],
): Promise<NatsConnection> {
  for (let tries = 1; ; tries++) {
    try {
      const nc = await open();
      if (tries > 1) log.info({ dependency: "NATS", where }, "NATS is reachable now; starting");
      return nc;
    } catch (err) {
      const message = `${(err as Error)?.message ?? err} ${(err as { code?: unknown })?.code ?? ""}`;
      if (!UNREACHABLE.test(message)) throw err;
      const waitMs = Math.min(1_000 * 2 ** (tries - 1), 15_000);
      log.warn(
        { dependency: "NATS", where, err: message.trim(), retryInMs: waitMs, attempt: tries },
        `NATS is not reachable at ${where}; not ready, trying again in ${Math.round(waitMs / 1_000)} s`,
      );
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/** One way to log in, or none (a server without authorization). */
function credentialsOf(config: NatsConfig): Partial<ConnectionOptions> {
  const given = [
    config.user && "NATS_USER",
    config.credsFile && "NATS_CREDS_FILE",
    config.nkeySeed && "NATS_NKEY_SEED",
  ].filter(Boolean);
  if (given.length > 1) {
    throw new Error(
      `NATS credentials: set one of NATS_USER, NATS_CREDS_FILE or NATS_NKEY_SEED, not ${given.join(" and ")}`,
    );
  }
  if (config.user) return { user: config.user, pass: config.password ?? "" };
  if (config.credsFile) {
    const file = config.credsFile;
    try {
      readFileSync(file); // fail at start, naming the file, not later inside a reconnect loop
    } catch (err) {
      throw new Error(`cannot read NATS_CREDS_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    return { authenticator: credsAuthenticator(() => readFileSync(file)) };
  }
  if (config.nkeySeed) return { authenticator: nkeyAuthenticator(new TextEncoder().encode(config.nkeySeed)) };
  return {};
}

async function watchStatus(nc: NatsConnection, log: NatsConfig["logger"]): Promise<void> {
  try {
    for await (const s of nc.status()) logStatus(s, log);
  } catch (err) {
    log.debug({ err }, "NATS status watcher ended");
  }
  const reason = await nc.closed();
  if (reason instanceof Error) log.error({ err: reason }, "NATS connection closed because of an error");
  else log.info("NATS connection closed");
}

function logStatus(s: Status, log: NatsConfig["logger"]): void {
  switch (s.type) {
    case "disconnect":
      log.warn({ server: redactServer(s.server) }, "lost the connection to NATS, reconnecting");
      return;
    case "reconnect":
      log.info({ server: redactServer(s.server) }, "reconnected to NATS");
      return;
    case "reconnecting":
      log.debug("trying to reconnect to NATS");
      return;
    case "ldm":
      log.warn({ server: redactServer(s.server) }, "NATS server is shutting down (lame duck mode)");
      return;
    case "error":
      // Async server errors are mostly permission violations: a misconfigured account.
      log.error({ err: s.error }, "NATS server reported an error");
      return;
    case "staleConnection":
      log.warn("NATS server stopped answering pings, reconnecting");
      return;
    case "slowConsumer":
      log.warn({ subject: s.sub.getSubject(), pending: s.pending }, "NATS subscription is falling behind");
      return;
    case "update":
      log.debug({ added: s.added, deleted: s.deleted }, "NATS cluster membership changed");
      return;
    default:
      return;
  }
}

function redactServer(server: string): string {
  return server.includes("@") ? redactUrl(server.includes("://") ? server : `nats://${server}`) : server;
}

/**
 * Readiness: the connection is open and the server answers a ping within the timeout. While the
 * client is reconnecting the ping does not complete, so this reports false instead of hanging.
 */
export async function natsHealthy(
  nc: Pick<NatsConnection, "isClosed" | "isDraining" | "rtt">,
  timeoutMs = 1_000,
): Promise<boolean> {
  if (nc.isClosed() || nc.isDraining()) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([nc.rtt().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
