import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  type ConfigChanged,
  type InstanceResyncCommand,
  NEXUS_REVISION,
  type RolloutProgressed,
} from "@nexus/contracts";
import type { Context } from "@opentelemetry/api";
import type { ConfigLogger } from "./logger.js";
import { identityAttributes, type TraceIdentity, withReceiptSpan } from "./tracing.js";
import { parseConfigChanged, parseResyncCommand, parseRolloutProgressed } from "./wire.js";

export interface WatcherOptions {
  nc: NatsConnection;
  subjects: { changes: string; resync: string; rollouts: string };
  logger: ConfigLogger;
  /** Who receives, for the receipt spans. */
  identity: TraceIdentity;
  /**
   * Called inside the receipt's CONSUMER span (a child of the registry's publish when the message
   * carried a `traceparent`); `trace` is that span's context, which the apply and the ack continue.
   */
  onChange(event: ConfigChanged, eventId: string, trace: Context): void;
  onResync(command: InstanceResyncCommand): void;
  /** A wave rollout of this (namespace, environment) moved: a held revision may be released. */
  onRollout(event: RolloutProgressed): void;
  /** The connection came back: anything published meanwhile was missed by core subscriptions. */
  onReconnect(): void;
}

export interface Watcher {
  stop(): void;
}

/**
 * Core NATS subscriptions (nothing stored, nothing to clean up on the server) to config.changed
 * and resync commands of one (namespace, environment). Core delivery may lose messages while
 * disconnected; the client fetches on reconnect and compares positions, so a loss costs a
 * fetch, never a wrong config. Every message is checked against the contract before use.
 */
export function watchNats(options: WatcherOptions): Watcher {
  const { nc, subjects, logger } = options;
  const subscriptions: Subscription[] = [];
  const receiptAttributes = identityAttributes(options.identity);

  subscriptions.push(
    nc.subscribe(subjects.changes, {
      callback: (err, msg) => {
        if (err) {
          logger.warn(
            { subject: subjects.changes, err: err.message },
            "nexus-client: change subscription failed",
          );
          return;
        }
        const parsed = parseConfigChanged(msg.data);
        if (!parsed.ok) {
          logger.warn(
            { subject: msg.subject, reason: parsed.reason },
            "nexus-client: ignored an invalid config.changed",
          );
          return;
        }
        const { data, id } = parsed.value;
        withReceiptSpan(
          {
            subject: msg.subject,
            eventId: id,
            bodySize: msg.data.length,
            traceparent: msg.headers?.get("traceparent") || undefined,
            tracestate: msg.headers?.get("tracestate") || undefined,
          },
          { ...receiptAttributes, [NEXUS_REVISION]: data.revision },
          // The change's handling (read, apply, ack) continues under the receipt.
          (trace) => options.onChange(data, id, trace),
        );
      },
    }),
  );

  subscriptions.push(
    nc.subscribe(subjects.resync, {
      callback: (err, msg) => {
        if (err) {
          logger.warn(
            { subject: subjects.resync, err: err.message },
            "nexus-client: resync subscription failed",
          );
          return;
        }
        const parsed = parseResyncCommand(msg.data);
        if (!parsed.ok) {
          logger.warn(
            { subject: msg.subject, reason: parsed.reason },
            "nexus-client: ignored an invalid resync command",
          );
          return;
        }
        options.onResync(parsed.value);
      },
    }),
  );

  subscriptions.push(
    nc.subscribe(subjects.rollouts, {
      callback: (err, msg) => {
        if (err) {
          // A permission the deployment has not granted yet: rollouts then reach the instance at its next check.
          logger.warn(
            { subject: subjects.rollouts, err: err.message },
            "nexus-client: rollout subscription failed",
          );
          return;
        }
        const parsed = parseRolloutProgressed(msg.data);
        if (!parsed.ok) {
          logger.warn(
            { subject: msg.subject, reason: parsed.reason },
            "nexus-client: ignored an invalid rollout.progressed",
          );
          return;
        }
        options.onRollout(parsed.value);
      },
    }),
  );

  const statuses = nc.status();
  void (async () => {
    try {
      for await (const s of statuses) {
        if (s.type === "reconnect") options.onReconnect();
        else if (s.type === "disconnect")
          logger.warn({}, "nexus-client: lost the NATS connection, reconnecting");
      }
    } catch {
      // the iterator ends with the connection
    }
  })();

  return {
    stop() {
      for (const sub of subscriptions) if (!sub.isClosed()) sub.unsubscribe();
      // The status iterator is a QueuedIterator; stopping it removes its listener from the connection.
      (statuses as { stop?: () => void }).stop?.();
    },
  };
}
