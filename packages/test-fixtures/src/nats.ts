import { randomBytes } from "node:crypto";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Bus, type BusLogger, createBus, createLogger, type StreamNames, streamNames } from "@nexus/kit";
import { testConfig } from "./config.js";

export const TEST_NATS_URL = testConfig.natsUrl;

export interface TestNats {
  nc: NatsConnection;
  /** Unique per call (`t` + hex), so subjects, streams and durables never meet another test's. */
  prefix: string;
  streams: StreamNames;
  /** Delete this prefix's streams (and with them their consumers) and close the connection. */
  cleanup(): Promise<void>;
}

export interface TestBus extends TestNats {
  /** A bus on `nc` with the prefix, its streams already created. */
  bus: Bus;
}

export interface TestBusOptions {
  source?: string;
  logger?: BusLogger;
}

/** A NATS connection and a fresh prefix; nothing created on the server yet. */
export async function createTestNats(): Promise<TestNats> {
  const nc = await connect({ servers: TEST_NATS_URL, name: "nexus-test", noAsyncTraces: true }).catch(
    (err: unknown) => {
      throw new Error(`NATS at ${TEST_NATS_URL} is not reachable: ${(err as Error).message}`);
    },
  );
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const streams = streamNames(prefix);
  let closed = false;
  return {
    nc,
    prefix,
    streams,
    async cleanup() {
      if (closed) return;
      closed = true;
      const jsm = await jetstreamManager(nc);
      for (const name of [streams.events, streams.dlq]) {
        await jsm.streams.delete(name).catch((err: unknown) => {
          const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
          if (!missing) throw err;
        });
      }
      await nc.close();
    },
  };
}

/** A typed bus under a unique prefix with both streams in place. */
export async function createTestBus(options: TestBusOptions = {}): Promise<TestBus> {
  const t = await createTestNats();
  const logger = options.logger ?? createLogger({ service: "test", level: "silent" });
  const bus = createBus({ nc: t.nc, prefix: t.prefix, source: options.source ?? "nexus/test", logger });
  try {
    await bus.ensureStreams();
  } catch (err) {
    await t.cleanup().catch(() => undefined);
    throw err;
  }
  return { ...t, bus };
}

export interface CollectedMessage<T = unknown> {
  subject: string;
  /** The JSON payload (for bus events, the CloudEvent envelope); the raw text if it is not JSON. */
  event: T;
  headers: Record<string, string>;
}

/**
 * The first `n` messages on a core subscription, JSON-parsed. The subscription exists as soon as
 * this is called, so start it before publishing and await it after; publishes on the same
 * connection are then guaranteed to be seen.
 */
export function collectEvents<T = unknown>(
  nc: NatsConnection,
  subject: string,
  n: number,
  timeoutMs = 5_000,
): Promise<CollectedMessage<T>[]> {
  const sub = nc.subscribe(subject, { max: n });
  const collected: CollectedMessage<T>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${n} messages on ${subject}; got ${collected.length}`,
        ),
      );
    }, timeoutMs);
    (async () => {
      for await (const m of sub) {
        const headers: Record<string, string> = {};
        for (const [k, values] of m.headers ?? []) headers[k] = values.join(",");
        collected.push({ subject: m.subject, event: parseOrText<T>(m.string()), headers });
      }
      clearTimeout(timer);
      if (collected.length >= n) resolve(collected);
    })().catch((err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function parseOrText<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}
