import { randomBytes, randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { CONFIG_CHANGED, eventTypes, INSTANCE_HEARTBEAT } from "@nexus/contracts";

/**
 * Hostile messages on every event subject of the catalog, published straight to JetStream under
 * a test bus's prefix (what a buggy or hostile publisher with NATS access can do): garbage bytes,
 * JSON that is no CloudEvent, a wrong schema version, a type on another type's subject, a body
 * naming another target than its subject, invalid UTF-8, NUL characters, a deep or huge body.
 * `settleBus` waits until every durable of the prefix has settled them (acked or dead-lettered).
 */

const hash = "a".repeat(64);
const configChanged = (namespace: string, actor = "fuzz") => ({
  schemaVersion: 1,
  namespace,
  environment: "staging",
  revision: 1,
  previousRevision: null,
  hash,
  previousHash: null,
  layer: "staging",
  changedPaths: [],
  trigger: "write",
  actor,
  source: "api",
});
const heartbeat = (namespace: string, sdkVersion = "1.0.0") => ({
  schemaVersion: 1,
  service: "fuzz",
  instanceId: "fuzz-1",
  namespace,
  environment: "staging",
  revision: 1,
  hash,
  status: "live",
  startedAt: new Date().toISOString(),
  sdkVersion,
  intervalSeconds: 30,
});

const envelope = (type: string, data: unknown, over: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: randomUUID(),
  source: "nexus/fuzz",
  type,
  time: new Date().toISOString(),
  datacontenttype: "application/json",
  data,
  ...over,
});

export interface HostileMessage {
  what: string;
  subject: string;
  payload: Uint8Array;
}

export function hostileMessages(prefix: string): HostileMessage[] {
  const out: HostileMessage[] = [];
  const on = (type: string, rest = "staging.fuzz-ns") => `${prefix}${type.slice("nexus".length)}.${rest}`;
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  for (const type of eventTypes) {
    const subject = on(type);
    out.push({ what: `${type}: garbage bytes`, subject, payload: randomBytes(64) });
    out.push({ what: `${type}: JSON, not a CloudEvent`, subject, payload: json({ hello: "world" }) });
    out.push({
      what: `${type}: schemaVersion 2`,
      subject,
      payload: json(envelope(type, { schemaVersion: 2 })),
    });
    out.push({ what: `${type}: data missing`, subject, payload: json(envelope(type, {})) });
    out.push({
      what: `${type}: unknown type`,
      subject,
      payload: json(envelope(`${type}.v9`, { schemaVersion: 1 })),
    });
    out.push({
      what: `${type}: specversion 0.3`,
      subject,
      payload: json(envelope(type, {}, { specversion: "0.3" })),
    });
    out.push({
      what: `${type}: invalid UTF-8`,
      subject,
      payload: Buffer.concat([
        Buffer.from('{"specversion":"1.0","type":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    });
    out.push({
      what: `${type}: nested 5000 deep`,
      subject,
      payload: Buffer.from(`${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`),
    });
  }
  // Valid bodies in the wrong place: the subject is the authority.
  out.push({
    what: "config.changed of namespace a on namespace b's subject",
    subject: on(CONFIG_CHANGED, "staging.fuzz-b"),
    payload: json(envelope(CONFIG_CHANGED, configChanged("fuzz-a"))),
  });
  out.push({
    what: "instance.heartbeat of namespace a on namespace b's subject",
    subject: on(INSTANCE_HEARTBEAT, "staging.fuzz-b"),
    payload: json(envelope(INSTANCE_HEARTBEAT, heartbeat("fuzz-a"))),
  });
  out.push({
    what: "instance.heartbeat on config.changed's subject",
    subject: on(CONFIG_CHANGED, "staging.fuzz-ns"),
    payload: json(envelope(INSTANCE_HEARTBEAT, heartbeat("fuzz-ns"))),
  });
  out.push({
    what: "instance.heartbeat with a NUL in a string",
    subject: on(INSTANCE_HEARTBEAT, "staging.fuzz-ns"),
    payload: json(envelope(INSTANCE_HEARTBEAT, heartbeat("fuzz-ns", "1.0\u0000"))),
  });
  out.push({
    what: "config.changed with a lone surrogate in a string",
    subject: on(CONFIG_CHANGED, "staging.fuzz-ns"),
    payload: Buffer.from(
      JSON.stringify(envelope(CONFIG_CHANGED, configChanged("fuzz-ns", "ACTOR"))).replace("ACTOR", "\\ud800"),
    ),
  });
  return out;
}

export async function publishHostile(nc: NatsConnection, messages: HostileMessage[]): Promise<void> {
  const js = jetstream(nc);
  for (const m of messages) await js.publish(m.subject, m.payload, { msgID: randomUUID() });
}

export interface BusSettled {
  durables: number;
  deadLetters: number;
}

/** Wait until every durable on the prefix's event stream has nothing pending or unacked. */
export async function settleBus(
  nc: NatsConnection,
  streams: { events: string; dlq: string },
  timeoutMs = 60_000,
): Promise<BusSettled> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const consumers = await jsm.consumers.list(streams.events).next();
    const busy = consumers.filter((c) => c.num_pending > 0 || c.num_ack_pending > 0);
    if (busy.length === 0) {
      const dlq = await jsm.streams.info(streams.dlq).catch(() => undefined);
      return { durables: consumers.length, deadLetters: dlq?.state.messages ?? 0 };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `durables still busy: ${busy.map((c) => `${c.name} pending ${c.num_pending} unacked ${c.num_ack_pending}`).join(", ")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Dead letters by reason code (`invalid_json`, `subject_mismatch`, ...). */
export async function deadLetterReasons(nc: NatsConnection, dlq: string): Promise<Record<string, number>> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(dlq).catch(() => undefined);
  const reasons: Record<string, number> = {};
  for (let seq = info?.state.first_seq ?? 1; info && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(dlq, { seq }).catch(() => undefined);
    const reason = m?.header?.get("Nexus-Dlq-Reason") ?? "?";
    const code = reason.split(":")[0] ?? "?";
    reasons[code] = (reasons[code] ?? 0) + 1;
  }
  return reasons;
}
