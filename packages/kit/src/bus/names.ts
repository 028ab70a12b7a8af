/**
 * Naming rules of the bus. Contracts spell every subject with the root token `nexus`; a bus
 * replaces that token with its own prefix, so a test run (or a second installation on the same
 * server) gets subjects, streams and consumers nobody else touches.
 */
export const CANONICAL_ROOT = "nexus";

const PREFIX_PATTERN = /^[a-z][a-z0-9_-]*$/;

export function assertPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`invalid bus prefix "${prefix}": use lowercase letters, digits, '-' or '_'`);
  }
}

/** `nexus.config.changed.x` → `<prefix>.config.changed.x`; a subject already under the prefix is kept. */
export function prefixSubject(prefix: string, subject: string): string {
  if (subject.startsWith(`${prefix}.`)) return subject;
  if (subject.startsWith(`${CANONICAL_ROOT}.`)) return `${prefix}${subject.slice(CANONICAL_ROOT.length)}`;
  throw new Error(`subject "${subject}" must start with "${CANONICAL_ROOT}." or "${prefix}."`);
}

/** The reverse: what the contracts call a prefixed subject. */
export function canonicalSubject(prefix: string, subject: string): string {
  return subject.startsWith(`${prefix}.`) ? `${CANONICAL_ROOT}${subject.slice(prefix.length)}` : subject;
}

function streamBase(prefix: string): string {
  return prefix.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

export interface StreamNames {
  events: string;
  dlq: string;
}

export function streamNames(prefix: string): StreamNames {
  const base = streamBase(prefix);
  return { events: `${base}_EVENTS`, dlq: `${base}_DLQ` };
}

export function dlqSubject(prefix: string, durable: string): string {
  return `${prefix}.dlq.${durable}`;
}

/**
 * Durable name for one filter subject of a logical consumer: `notifier` reading
 * `nexus.config.changed.>` becomes `notifier-config-changed`. Durable names may not contain
 * `.`, `*` or `>`, so those become `-`, `any` and nothing.
 */
export function durableFor(durable: string, prefix: string, filter: string): string {
  const tokens = canonicalSubject(prefix, filter)
    .split(".")
    .slice(1)
    .filter((t) => t !== ">")
    .map((t) => (t === "*" ? "any" : t.replace(/[^A-Za-z0-9_-]/g, "_")));
  return [durable, ...tokens].join("-");
}

const DURABLE_PATTERN = /^[A-Za-z0-9_-]+$/;

export function assertDurable(durable: string): void {
  if (!DURABLE_PATTERN.test(durable)) {
    throw new Error(`invalid durable name "${durable}": use letters, digits, '-' or '_'`);
  }
}
