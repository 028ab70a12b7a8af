import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import { reasonOf } from "./errors.js";
import type { ConfigLogger } from "./logger.js";
import { isNatsConnection } from "./options.js";

export interface NatsLink {
  /** Set once connected (at once for a connection the application passed in). */
  readonly nc: NatsConnection | undefined;
  /** Called once when a connection that was late at start-up comes up. */
  onLateConnect(callback: (nc: NatsConnection) => void): void;
  /** Closes the connection if the client opened it; leaves the application's own alone. */
  close(): Promise<void>;
}

/**
 * NATS is optional at run time: when the client opens the connection itself and the server is
 * down, start-up waits at most `waitMs`, carries on without push (polling, no acks) and attaches
 * when the connection comes up. Reconnects forever, like the services do.
 */
export async function openNats(
  spec: NatsConnection | ConnectionOptions | undefined,
  options: { name: string; waitMs: number; logger: ConfigLogger },
): Promise<NatsLink> {
  if (!spec) return { nc: undefined, onLateConnect: () => undefined, close: async () => undefined };
  if (isNatsConnection(spec))
    return { nc: spec, onLateConnect: () => undefined, close: async () => undefined };

  let nc: NatsConnection | undefined;
  let closed = false;
  let late: ((nc: NatsConnection) => void) | undefined;
  /** A late connection that came up before anyone asked to hear of it (during the first read). */
  let unannounced: NatsConnection | undefined;
  const connecting = connect({
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    reconnectJitter: 500,
    waitOnFirstConnect: true,
    // Every request and JetStream publish would otherwise capture a stack trace up front, in
    // case it times out: measurable CPU when many instances ack at once.
    noAsyncTraces: true,
    ...spec,
  }).then(
    (conn) => {
      if (closed) {
        void conn.close();
        return undefined;
      }
      nc = conn;
      return conn;
    },
    (err: unknown) => {
      options.logger.error(
        { err: reasonOf(err) },
        "nexus-client: cannot connect to NATS; running without push",
      );
      return undefined;
    },
  );

  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    connecting,
    new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), options.waitMs);
    }),
  ]);
  clearTimeout(timer);
  if (waited === "late") {
    options.logger.warn(
      { waitedMs: options.waitMs },
      "nexus-client: NATS is not reachable yet; polling over HTTP until it is",
    );
    void connecting.then((conn) => {
      if (!conn || closed) return;
      if (late) late(conn);
      else unannounced = conn;
    });
  }

  return {
    get nc() {
      return nc;
    },
    onLateConnect(callback) {
      late = callback;
      const conn = unannounced;
      unannounced = undefined;
      if (conn && !closed) callback(conn);
    },
    async close() {
      closed = true;
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}
