import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  CONFIG_APPLIED,
  type ConfigApplied,
  INSTANCE_HEARTBEAT,
  type InstanceHeartbeat,
} from "@nexus/contracts";
import type { Attributes, Context } from "@opentelemetry/api";
import { backoffDelay } from "./backoff.js";
import { reasonOf } from "./errors.js";
import type { ConfigLogger } from "./logger.js";
import { withAckSpan } from "./tracing.js";
import { natsHeaders } from "./tracing-nats.js";
import { buildEvent } from "./wire.js";

export interface ReporterOptions {
  nc: NatsConnection;
  prefix: string;
  /** CloudEvents `source`. */
  source: string;
  logger: ConfigLogger;
  /** PubAck wait per attempt, ms. */
  timeoutMs: number;
  /** Attempts per applied-ack before giving up (heartbeats carry the state anyway). */
  ackAttempts?: number;
  /** Put on every ack's PRODUCER span: which instance sends it. */
  traceAttributes?: Attributes;
}

export interface Reporter {
  /**
   * Queue an applied-ack; acks leave in order, each retried with the same Nats-Msg-Id, in a
   * PRODUCER span under `trace` whose context the message carries in its headers.
   */
  applied(data: ConfigApplied, trace: Context): void;
  /**
   * Send a heartbeat now, unless the previous one is still waiting for its PubAck (then this one
   * is skipped; with `wait`, it is sent once the previous one is done, as the last one must be).
   */
  heartbeat(data: InstanceHeartbeat, wait?: boolean): Promise<void>;
  /** Wait until every queued ack was published or given up on, at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

/**
 * Publishes the instance's reports to JetStream (the events stream captures
 * `<prefix>.config.applied.>` and `<prefix>.instance.heartbeat.>`). Every event is validated
 * against the contract before it leaves; the CloudEvents id doubles as `Nats-Msg-Id`, so a retry
 * after a lost PubAck is dropped by JetStream as a duplicate instead of counted twice.
 * Publishing never blocks applying: acks go through their own queue.
 */
export function createReporter(options: ReporterOptions): Reporter {
  const js: JetStreamClient = jetstream(options.nc, { timeout: options.timeoutMs });
  const attempts = Math.max(1, options.ackAttempts ?? 5);
  const log = options.logger;
  let queue: Promise<void> = Promise.resolve();
  let heartbeatInFlight: Promise<void> | undefined;

  async function publishWithRetry(data: ConfigApplied, trace: Context): Promise<void> {
    let event: ReturnType<typeof buildEvent<typeof CONFIG_APPLIED>>;
    try {
      event = buildEvent(options.prefix, CONFIG_APPLIED, data, options.source);
    } catch (err) {
      log.error({ err: reasonOf(err) }, "nexus-client: an applied-ack broke the contract and was not sent");
      return;
    }
    const body = JSON.stringify(event.envelope);
    const message = {
      subject: event.subject,
      eventId: event.envelope.id,
      bodySize: Buffer.byteLength(body),
      revision: data.revision,
      status: data.status,
    };
    await withAckSpan(trace, message, options.traceAttributes ?? {}, async (traceHeaders, span) => {
      // The ack joins the change's trace: the services that process it show in that trace.
      const h = natsHeaders(traceHeaders);
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (options.nc.isClosed()) return;
        try {
          await js.publish(event.subject, body, {
            msgID: event.envelope.id,
            timeout: options.timeoutMs,
            ...(h ? { headers: h } : {}),
          });
          span.setAttribute("nexus.publish.attempts", attempt);
          log.debug(
            { revision: data.revision, hash: data.hash, status: data.status, eventId: event.envelope.id },
            "nexus-client: applied-ack published",
          );
          return;
        } catch (err) {
          if (attempt === attempts) {
            log.warn(
              { revision: data.revision, status: data.status, attempts, err: reasonOf(err) },
              "nexus-client: could not publish an applied-ack; heartbeats will report the state",
            );
            throw err;
          }
          await sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 5_000 }));
        }
      }
    }).catch(() => undefined); // given up on (logged, span failed): heartbeats carry the state
  }

  return {
    applied(data, trace) {
      queue = queue.then(() => publishWithRetry(data, trace));
    },

    async heartbeat(data, wait = false) {
      if (wait) while (heartbeatInFlight) await heartbeatInFlight;
      if (heartbeatInFlight || options.nc.isClosed()) return;
      const send = async () => {
        try {
          const event = buildEvent(options.prefix, INSTANCE_HEARTBEAT, data, options.source);
          await js.publish(event.subject, JSON.stringify(event.envelope), {
            msgID: event.envelope.id,
            timeout: options.timeoutMs,
          });
        } catch (err) {
          log.warn({ err: reasonOf(err) }, "nexus-client: heartbeat not published");
        }
      };
      heartbeatInFlight = send().finally(() => {
        heartbeatInFlight = undefined;
      });
      await heartbeatInFlight;
    },

    async flush(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all([queue, heartbeatInFlight]), timeout]);
      clearTimeout(timer);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
