// biome-ignore-all lint/suspicious/noExplicitAny: stored rows and events are read as they come
/**
 * The offline half of the write-history test (see write-history.ts): what the registry stored and
 * published, read back and checked against the recorded operations.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import jsonPatch, { type Operation as PatchOperation } from "fast-json-patch";
import type pg from "pg";
import { HISTORY_NS, type Operation, UPSTREAM_NS } from "./write-history.js";

interface StoredRevision {
  namespace: string;
  revision: number;
  layer: string;
  content: Record<string, any>;
  hash: string;
  diff: unknown[];
  source: string;
}

export interface ChangedEvent {
  subject: string;
  streamSeq: number;
  namespace: string;
  environment: string;
  revision: number;
  previousRevision: number | null;
  hash: string;
  previousHash: string | null;
}

/** Every config.changed event in the stream, in stream order. */
export async function readChangedEvents(
  nc: NatsConnection,
  stream: string,
  prefix: string,
): Promise<ChangedEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const durable = `history-${Date.now().toString(36)}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${prefix}.config.changed.>`,
  });
  const events: ChangedEvent[] = [];
  try {
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const pending = (await consumer.info()).num_pending;
    while (events.length < pending && info.state.messages > 0) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        const data = (m.json() as { data: any }).data;
        events.push({
          subject: m.subject,
          streamSeq: m.seq,
          namespace: data.namespace,
          environment: data.environment,
          revision: data.revision,
          previousRevision: data.previousRevision,
          hash: data.hash,
          previousHash: data.previousHash,
        });
      }
      if (got === 0) break;
    }
  } finally {
    await jsm.consumers.delete(stream, durable).catch(() => undefined);
  }
  return events;
}

export interface HistoryCheckInput {
  history: readonly Operation[];
  /** The registry's database, for the stored revisions and heads (read after the run). */
  pool: Pick<pg.Pool, "query">;
  events: readonly ChangedEvent[];
  /** Resolve a namespace's stored layers the way the registry should have (base ⊕ overlay, refs). */
  expectResolved: (
    layers: Map<string, Map<string, Record<string, unknown>>>,
    namespace: string,
    environment: string,
  ) => Record<string, unknown>;
}

/** Every violation found, as plain sentences; empty when the history is correct. */
export async function checkHistory(
  input: HistoryCheckInput,
): Promise<{ problems: string[]; stats: Record<string, number> }> {
  const problems: string[] = [];
  const { history, pool, events } = input;
  const rows = (
    await pool.query<StoredRevision>(
      "SELECT namespace, revision, layer, content, hash, diff, source FROM revisions WHERE namespace = ANY($1) ORDER BY namespace, revision",
      [[HISTORY_NS, UPSTREAM_NS]],
    )
  ).rows;
  const byLayer = new Map<string, StoredRevision[]>();
  for (const r of rows) {
    const key = `${r.namespace}/${r.layer}`;
    byLayer.set(key, [...(byLayer.get(key) ?? []), r]);
  }

  // 1. Each stored revision's diff is against the layer revision it really follows, and a
  //    counter write follows exactly the revision it was based on (its If-Match).
  for (const [key, revisions] of byLayer) {
    let previous: StoredRevision | undefined;
    for (const r of revisions) {
      if (!patchLeadsTo(previous?.content ?? {}, r.diff, r.content)) {
        problems.push(
          `${key} revision ${r.revision}: stored diff is not against revision ${previous?.revision ?? 0}, the one it follows`,
        );
      }
      const basedOn = r.content.basedOn;
      if (typeof basedOn === "number" && basedOn !== (previous?.revision ?? 0)) {
        problems.push(
          `${key} revision ${r.revision}: written with If-Match ${basedOn} but follows revision ${previous?.revision ?? 0} (lost update)`,
        );
      }
      previous = r;
    }
  }

  // 2. Every acknowledged write is stored as it was acknowledged; no If-Match accepted twice.
  const stored = new Map(rows.map((r) => [`${r.namespace}/${r.revision}`, r]));
  const accepted = new Map<string, Operation>();
  let acked = 0;
  for (const op of history) {
    if (op.outcome !== "ok" || !op.changed) continue;
    acked++;
    const rev = stored.get(`${op.namespace}/${op.revision}`);
    if (!rev) {
      problems.push(
        `${op.client}: acknowledged ${op.kind} of ${op.namespace}/${op.layer} as revision ${op.revision}, which is not stored`,
      );
      continue;
    }
    if (rev.layer !== op.layer)
      problems.push(
        `${op.client}: revision ${op.revision} acknowledged for ${op.layer} is stored for ${rev.layer}`,
      );
    if (op.ifMatch !== undefined) {
      if (
        rev.content.counter !== op.value ||
        rev.content.basedOn !== op.ifMatch ||
        rev.content.by !== op.client
      )
        problems.push(`${op.client}: revision ${op.revision} does not hold the write acknowledged for it`);
      const key = `${op.layer}@${op.ifMatch}`;
      const twice = accepted.get(key);
      if (twice)
        problems.push(
          `If-Match ${op.ifMatch} on ${op.layer} accepted twice (${twice.client} and ${op.client})`,
        );
      accepted.set(key, op);
    }
  }

  // 3. Resolved heads equal resolving the stored layers.
  const layers = new Map<string, Map<string, Record<string, unknown>>>();
  for (const [key, revisions] of byLayer) {
    const [ns, layer] = key.split("/") as [string, string];
    if (!layers.has(ns)) layers.set(ns, new Map());
    layers.get(ns)!.set(layer, revisions[revisions.length - 1]!.content);
  }
  const heads = (
    await pool.query<{
      namespace: string;
      environment: string;
      revision: number;
      hash: string;
      body: string;
    }>("SELECT namespace, environment, revision, hash, body FROM resolved_heads WHERE namespace = ANY($1)", [
      [HISTORY_NS, UPSTREAM_NS],
    ])
  ).rows;
  for (const h of heads) {
    const served = (JSON.parse(h.body) as { content: Record<string, unknown> }).content;
    const expected = input.expectResolved(layers, h.namespace, h.environment);
    if (JSON.stringify(sortKeys(served)) !== JSON.stringify(sortKeys(expected)))
      problems.push(
        `${h.namespace}/${h.environment}: resolved head ${JSON.stringify(served)} is not the stored layers resolved (${JSON.stringify(expected)})`,
      );
  }

  // 4. Events: one per change, in order, each linking to the one before it; the last one is the head.
  const bySubject = new Map<string, ChangedEvent[]>();
  for (const e of events) {
    const key = `${e.namespace}/${e.environment}`;
    bySubject.set(key, [...(bySubject.get(key) ?? []), e]);
  }
  for (const [key, list] of bySubject) {
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const id = `${e.revision}:${e.hash}`;
      if (seen.has(id))
        problems.push(`${key}: revision ${e.revision} (hash ${e.hash.slice(0, 8)}) announced twice`);
      seen.add(id);
      const before = list[i - 1];
      if (!before) continue;
      if (e.revision < before.revision)
        problems.push(
          `${key}: event for revision ${e.revision} after revision ${before.revision} (stream seq ${e.streamSeq})`,
        );
      if (e.previousRevision !== before.revision || e.previousHash !== before.hash)
        problems.push(
          `${key}: event for revision ${e.revision} says it follows ${e.previousRevision}, but follows ${before.revision}`,
        );
    }
    const head = heads.find((h) => `${h.namespace}/${h.environment}` === key);
    const last = list[list.length - 1]!;
    if (head && (head.revision !== last.revision || head.hash !== last.hash))
      problems.push(`${key}: last event announces revision ${last.revision}, the head is ${head.revision}`);
  }
  for (const h of heads) {
    if (h.revision > 0 && !bySubject.has(`${h.namespace}/${h.environment}`))
      problems.push(`${h.namespace}/${h.environment}: no event at all`);
  }
  return {
    problems,
    stats: {
      operations: history.length,
      acknowledged: acked,
      unknown: history.filter((o) => o.outcome === "unknown").length,
      conflicts: history.filter((o) => o.status === 409).length,
      revisions: rows.length,
      events: events.length,
    },
  };
}

/** The stored RFC 6902 diff, applied to the revision it claims to follow, gives its content. */
function patchLeadsTo(from: Record<string, unknown>, diff: unknown[], to: Record<string, unknown>): boolean {
  try {
    const copy = structuredClone(from);
    const result = jsonPatch.applyPatch(copy, diff as PatchOperation[], true, true).newDocument;
    return JSON.stringify(sortKeys(result)) === JSON.stringify(sortKeys(to));
  } catch {
    return false;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}
