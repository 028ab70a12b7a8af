import { randomUUID } from "node:crypto";
import {
  type CloudEvent,
  CONFIG_CHANGED,
  ConfigChanged,
  cloudEvent,
  type EventData,
  type EventDefinition,
  type EventType,
  eventCatalog,
  InstanceResyncCommand,
  ROLLOUT_PROGRESSED,
  RolloutProgressed,
} from "@nexus/contracts";
import type { z } from "zod";
import { withPrefix } from "./subjects.js";

/**
 * What travels on NATS, in both directions, checked against the contract: outgoing events are
 * validated before they leave (a bug here must not reach the drift-detector), incoming messages
 * are validated before the client acts on them.
 */

export interface OutgoingEvent<T extends EventType> {
  subject: string;
  envelope: CloudEvent<EventData<T>>;
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** A CloudEvents 1.0 envelope for a catalog event, and its subject under `prefix`. Throws on invalid data. */
export function buildEvent<T extends EventType>(
  prefix: string,
  type: T,
  data: EventData<T>,
  source: string,
  now: Date = new Date(),
): OutgoingEvent<T> {
  const def = eventCatalog[type] as unknown as EventDefinition;
  const parsed = def.schema.safeParse(data);
  if (!parsed.success) throw new Error(`refusing to publish an invalid ${type}: ${issues(parsed.error)}`);
  const envelope = {
    specversion: "1.0" as const,
    id: randomUUID(),
    source,
    type,
    subject: def.about(parsed.data),
    time: now.toISOString(),
    datacontenttype: "application/json" as const,
    data: parsed.data as EventData<T>,
  };
  return { subject: withPrefix(prefix, def.subject(parsed.data)), envelope };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ChangedEnvelope = cloudEvent(ConfigChanged);
const utf8 = new TextDecoder();

function parseJson(bytes: Uint8Array): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

/** A config.changed message as the bus publishes it: a CloudEvent whose data is ConfigChanged. */
export function parseConfigChanged(bytes: Uint8Array): Parsed<CloudEvent<ConfigChanged>> {
  const json = parseJson(bytes);
  if (!json.ok) return json;
  const parsed = ChangedEnvelope.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: issues(parsed.error) };
  if (parsed.data.type !== CONFIG_CHANGED) {
    return { ok: false, reason: `type is ${parsed.data.type}, expected ${CONFIG_CHANGED}` };
  }
  return { ok: true, value: parsed.data };
}

/** A resync command: a plain JSON body (commands are not CloudEvents). */
export function parseResyncCommand(bytes: Uint8Array): Parsed<InstanceResyncCommand> {
  const json = parseJson(bytes);
  if (!json.ok) return json;
  const parsed = InstanceResyncCommand.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: issues(parsed.error) };
  return { ok: true, value: parsed.data };
}

const RolloutEnvelope = cloudEvent(RolloutProgressed);

/** A rollout.progressed as the orchestrator's outbox publishes it. */
export function parseRolloutProgressed(bytes: Uint8Array): Parsed<RolloutProgressed> {
  const json = parseJson(bytes);
  if (!json.ok) return json;
  const parsed = RolloutEnvelope.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: issues(parsed.error) };
  if (parsed.data.type !== ROLLOUT_PROGRESSED) {
    return { ok: false, reason: `type is ${parsed.data.type}, expected ${ROLLOUT_PROGRESSED}` };
  }
  return { ok: true, value: parsed.data.data };
}
