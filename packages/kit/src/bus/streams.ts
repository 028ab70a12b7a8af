import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { eventTypes } from "@nexus/contracts";
import { prefixSubject, type StreamNames, streamNames } from "./names.js";

export interface StreamOptions {
  /** How long events stay in JetStream; Postgres keeps the durable history. Default 7 days. */
  eventsMaxAgeMs?: number;
  /** How long dead letters wait for someone to look at them. Default 30 days. */
  dlqMaxAgeMs?: number;
  /** 1 on a single server; 3 on a cluster. */
  replicas?: number;
}

const DAY_MS = 24 * 60 * 60 * 1_000;
/** Window in which JetStream drops a repeated Nats-Msg-Id: covers relay restarts and retries. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1_000;
const STREAM_NAME_IN_USE = 10058;

/**
 * The events stream captures `<prefix>.<type-rest>.>` for each catalog event and nothing else:
 * request/reply command subjects share the prefix, and a stream capturing them would answer
 * every command with a PubAck before the real responder could.
 */
export function eventStreamSubjects(prefix: string): string[] {
  return eventTypes.map((t) => `${prefixSubject(prefix, t)}.>`).sort();
}

/** Create or update both streams; safe to run on every start of every instance. */
export async function ensureStreams(
  jsm: JetStreamManager,
  prefix: string,
  options: StreamOptions = {},
): Promise<StreamNames> {
  const names = streamNames(prefix);
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  await ensureStream(jsm, {
    ...common,
    name: names.events,
    description: `Nexus events (prefix ${prefix})`,
    subjects: eventStreamSubjects(prefix),
    max_age: nanos(options.eventsMaxAgeMs ?? 7 * DAY_MS),
  });
  await ensureStream(jsm, {
    ...common,
    name: names.dlq,
    description: `Nexus dead letters (prefix ${prefix})`,
    subjects: [`${prefix}.dlq.>`],
    max_age: nanos(options.dlqMaxAgeMs ?? 30 * DAY_MS),
  });
  return names;
}

type WantedStream = Pick<
  StreamConfig,
  | "name"
  | "description"
  | "subjects"
  | "retention"
  | "storage"
  | "discard"
  | "num_replicas"
  | "duplicate_window"
  | "max_age"
>;

async function ensureStream(jsm: JetStreamManager, wanted: WantedStream): Promise<void> {
  const existing = await jsm.streams.info(wanted.name).catch((err: unknown) => {
    if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw err;
  });
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (err) {
      // Another instance created it between our info and add; fall through to the update check.
      if (!isApiError(err, STREAM_NAME_IN_USE)) throw err;
    }
  }
  const current = existing?.config ?? (await jsm.streams.info(wanted.name)).config;
  if (!differs(current, wanted)) return;
  const { name, retention: _r, storage: _s, ...updatable } = wanted;
  await jsm.streams.update(name, updatable);
}

function differs(current: StreamConfig, wanted: WantedStream): boolean {
  const same =
    [...current.subjects].sort().join(",") === [...wanted.subjects].sort().join(",") &&
    current.duplicate_window === wanted.duplicate_window &&
    current.max_age === wanted.max_age &&
    current.num_replicas === wanted.num_replicas &&
    current.discard === wanted.discard;
  return !same;
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
