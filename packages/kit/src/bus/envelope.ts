import { randomFillSync } from "node:crypto";
import {
  type CloudEvent,
  cloudEvent,
  type EventData,
  type EventDefinition,
  type EventType,
  eventCatalog,
} from "@nexus/contracts";
import { z } from "zod";
import { assertCleanValue } from "../input/clean-input.js";

/** A CloudEvent whose `type` narrows `data`: a union of these is a discriminated union. */
export type EventOf<T extends EventType> = T extends EventType
  ? CloudEvent<EventData<T>> & { type: T }
  : never;

export interface EnvelopeOptions {
  /** Event id; a fresh uuid v7 when absent. */
  id?: string;
  time?: Date;
}

/** Thrown when code tries to build an event the contract refuses: a bug, never published. */
export class InvalidEventError extends Error {
  readonly type: string;
  readonly issues: { path: string; message: string }[];

  constructor(type: string, issues: { path: string; message: string }[]) {
    super(`invalid ${type} event: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.name = "InvalidEventError";
    this.type = type;
    this.issues = issues;
  }
}

/** uuid v7: time-ordered, so ids sort roughly by creation and index well in Postgres. */
// Random bytes drawn 4 KiB at a time: one getrandom call per 256 ids instead of one per id.
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

export function uuidv7(now: number = Date.now()): string {
  if (randomOffset + 16 > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const b = Buffer.from(randomPool.subarray(randomOffset, randomOffset + 16));
  randomOffset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function definitionOf(type: string): EventDefinition | undefined {
  return Object.hasOwn(eventCatalog, type) ? (eventCatalog[type as EventType] as EventDefinition) : undefined;
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

const EventId = z.uuid();

/** Validate `data` against the catalog and wrap it; throws InvalidEventError, never returns junk. */
export function buildEnvelope<T extends EventType>(
  type: T,
  data: EventData<T>,
  source: string,
  opts: EnvelopeOptions = {},
): EventOf<T> {
  const def = definitionOf(type);
  if (!def) throw new InvalidEventError(type, [{ path: "type", message: "not in the event catalog" }]);
  const parsed = def.schema.safeParse(data);
  if (!parsed.success) throw new InvalidEventError(type, issuesOf(parsed.error));
  if (opts.id !== undefined && !EventId.safeParse(opts.id).success) {
    throw new InvalidEventError(type, [{ path: "id", message: "must be a uuid" }]);
  }
  const envelope: CloudEvent<unknown> = {
    specversion: "1.0",
    id: opts.id ?? uuidv7(),
    source,
    type,
    subject: def.about(parsed.data),
    time: (opts.time ?? new Date()).toISOString(),
    datacontenttype: "application/json",
    data: parsed.data,
  };
  return envelope as EventOf<T>;
}

/** Full (canonical, `nexus.`-rooted) subject of one event, checked to lie under its type. */
export function canonicalSubjectFor(type: string, data: unknown): string {
  const def = definitionOf(type);
  if (!def) throw new InvalidEventError(type, [{ path: "type", message: "not in the event catalog" }]);
  const subject = def.subject(data);
  // Streams capture `<type>.>`: a subject outside it would find no stream and fail at publish.
  if (!subject.startsWith(`${type}.`)) {
    throw new Error(`catalog bug: subject "${subject}" of ${type} does not start with "${type}."`);
  }
  return subject;
}

export type ParseFailureReason =
  | "invalid_json"
  | "invalid_envelope"
  | "unknown_type"
  | "unexpected_type"
  | "invalid_data"
  /** The input guards' refusals (kit http/input-guards), the same as on HTTP. */
  | "invalid_character"
  | "reserved_key"
  | "content_too_deep";

export type ParseResult<T extends EventType> =
  | { ok: true; event: EventOf<T> }
  | { ok: false; reason: ParseFailureReason; message: string; eventId?: string; type?: string };

const AnyEnvelope = cloudEvent(z.unknown());

/**
 * Everything that arrives is checked in the same order: JSON, CloudEvents envelope, a type this
 * reader expects, then the type's own schema. Anything failing is poison and never reaches a handler.
 */
export function parseEvent<T extends EventType>(
  bytes: Uint8Array,
  expected: ReadonlySet<string>,
): ParseResult<T> {
  let json: unknown;
  try {
    // Fatal: bytes that are not UTF-8 are refused, never read as U+FFFD.
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    return { ok: false, reason: "invalid_json", message: (err as Error).message };
  }
  try {
    // The HTTP APIs' rule for every value: no NUL or lone surrogate (Postgres cannot store them
    // exactly), no `__proto__`-style keys, no nesting past 64.
    assertCleanValue(json);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === "reserved_key" || code === "content_too_deep" ? code : "invalid_character";
    return { ok: false, reason, message: (err as Error).message };
  }
  const env = AnyEnvelope.safeParse(json);
  if (!env.success) {
    const message = issuesOf(env.error)
      .map((i) => `${i.path}: ${i.message}`)
      .join("; ");
    return { ok: false, reason: "invalid_envelope", message };
  }
  const { id, type } = env.data;
  const def = definitionOf(type);
  if (!def)
    return { ok: false, reason: "unknown_type", message: `unknown event type ${type}`, eventId: id, type };
  if (!expected.has(type)) {
    return { ok: false, reason: "unexpected_type", message: `${type} is not read here`, eventId: id, type };
  }
  const data = def.schema.safeParse(env.data.data);
  if (!data.success) {
    const message = issuesOf(data.error)
      .map((i) => `data.${i.path}: ${i.message}`)
      .join("; ");
    return { ok: false, reason: "invalid_data", message, eventId: id, type };
  }
  return { ok: true, event: { ...env.data, data: data.data } as EventOf<T> };
}
