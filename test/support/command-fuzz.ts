import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import fc from "fast-check";

/**
 * Hostile requests on the request/reply command subjects (packages/contracts/src/commands), sent
 * straight on NATS under a test bus's prefix, as a client with publish rights on the subject can:
 * garbage bytes, non-JSON, JSON that is no object, a wrong schema version, each required field
 * missing or of the wrong type, a body naming another target than its subject, a subject with too
 * few or too many tokens, oversize, invalid UTF-8, NUL characters, lone surrogates, reserved keys,
 * deep nesting. Every one must get `{ ok:false, error:{ statusCode 4xx, code, field } }`.
 */

export interface CommandSpec {
  /** The unprefixed subject root (`nexus.rollout.cmd.target`). */
  root: string;
  /** The body fields whose values make up the subject after the root, in order ([] for none). */
  target: readonly string[];
  /** A valid request (its target fields name the subject's target). */
  valid: Record<string, unknown>;
  /** The contract's request schema (decides which variants are invalid at all). */
  request: { safeParse(body: unknown): { success: boolean } };
  /** The responder subscribes one `*` per target field: other token counts reach nobody. */
  exactTokens?: boolean;
  /** The responder's request size limit (kit's `COMMAND_MAX_BYTES` unless the command raised it). */
  maxBytes: number;
}

export interface HostileCommand {
  what: string;
  /** Unprefixed. */
  subject: string;
  payload: Uint8Array;
  /** The field the reply must name, when one is certain. */
  field?: string;
  /** Always sent, also in the CI sample. */
  always?: boolean;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => utf8(JSON.stringify(v));

export function subjectOf(spec: CommandSpec, body: Record<string, unknown> = spec.valid): string {
  return [spec.root, ...spec.target.map((f) => String(body[f]))].join(".");
}

export function hostileCommands(spec: CommandSpec, maxPayload: number): HostileCommand[] {
  const subject = subjectOf(spec);
  const out: HostileCommand[] = [];
  const add = (what: string, payload: Uint8Array, field?: string, always = false, on = subject) =>
    out.push({ what, subject: on, payload, field, always });
  const invalid = (body: Record<string, unknown>) => !spec.request.safeParse(body).success;

  add("garbage bytes", randomBytes(64), "body", true);
  add("empty body", new Uint8Array(), "body");
  add("not JSON", utf8("schemaVersion=1"), "body");
  add("truncated JSON", utf8(JSON.stringify(spec.valid).slice(0, -3)), "body");
  for (const [name, v] of [
    ["a JSON array", [spec.valid]],
    ["JSON null", null],
    ["a JSON number", 1],
    ["a JSON string", "hello"],
  ] as const)
    add(name, json(v), "body");
  add("schemaVersion 2", json({ ...spec.valid, schemaVersion: 2 }), "schemaVersion", true);
  add('schemaVersion "1"', json({ ...spec.valid, schemaVersion: "1" }), "schemaVersion");
  for (const key of Object.keys(spec.valid)) {
    const { [key]: _dropped, ...without } = spec.valid;
    if (invalid(without)) add(`${key} missing`, json(without), key);
    for (const [kind, wrong] of [
      ["an object", { x: 1 }],
      ["a long string", "x".repeat(5000)],
      ["a negative number", -1],
    ] as const) {
      const body = { ...spec.valid, [key]: wrong };
      if (invalid(body)) add(`${key} ${kind}`, json(body), key);
    }
  }
  // The subject is the authority (NATS permissions grant subjects): a body naming another target.
  for (const field of spec.target) {
    const other = { ...spec.valid, [field]: `other-${String(spec.valid[field])}`.slice(0, 60) };
    add(`body names another ${field} than its subject`, json(other), field, true);
    add(
      `subject names another ${field} than the body`,
      json(spec.valid),
      field,
      true,
      subjectOf(spec, other),
    );
  }
  if (spec.target.length > 0 && !spec.exactTokens) {
    add(
      "subject with a token too few",
      json(spec.valid),
      "subject",
      false,
      subject.split(".").slice(0, -1).join("."),
    );
    add("subject with a token too many", json(spec.valid), "subject", false, `${subject}.extra`);
  }
  // Past the responder's limit (when the server would carry it at all: max_payload refuses more).
  if (spec.maxBytes + 1024 < maxPayload)
    add("oversize", json({ ...spec.valid, padding: "x".repeat(spec.maxBytes) }), "body", true);
  const text = JSON.stringify(spec.valid);
  add(
    "invalid UTF-8",
    Buffer.concat([
      Buffer.from(text.slice(0, -1)),
      Buffer.from(',"x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]),
    "body",
    true,
  );
  add("NUL in a string", json({ ...spec.valid, junk: "a\u0000b" }));
  add("lone surrogate", utf8(JSON.stringify({ ...spec.valid, junk: "S" }).replace('"S"', '"\\ud800"')));
  add("__proto__ key", utf8(`${text.slice(0, -1)},"__proto__":{"admin":true}}`));
  add("nested 5000 deep", utf8(`${text.slice(0, -1)},"junk":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`));
  return out;
}

export interface CommandFuzzResult {
  requests: number;
  byCode: Record<string, number>;
  failures: string[];
}

/**
 * Send each command's hostile requests (a seeded sample plus the `always` ones when `perCommand`
 * is set) and check every reply. `probe` is a good request that must keep succeeding: asked
 * between commands and at the end.
 */
export async function fuzzCommands(opts: {
  nc: NatsConnection;
  prefix: string;
  specs: CommandSpec[];
  probe: () => Promise<boolean>;
  perCommand?: number;
  seed?: number;
}): Promise<CommandFuzzResult> {
  const result: CommandFuzzResult = { requests: 0, byCode: {}, failures: [] };
  const maxPayload = opts.nc.info?.max_payload ?? 1024 * 1024;
  for (const spec of opts.specs) {
    let hostile = hostileCommands(spec, maxPayload);
    if (opts.perCommand !== undefined) {
      const rest = hostile.filter((h) => !h.always);
      const n = Math.min(opts.perCommand, rest.length);
      const sample = fc.sample(fc.shuffledSubarray(rest, { minLength: n, maxLength: n }), {
        seed: opts.seed ?? 20261206,
        numRuns: 1,
      })[0]!;
      hostile = [...hostile.filter((h) => h.always), ...sample];
    }
    for (const h of hostile) {
      result.requests += 1;
      const label = `${spec.root} ${h.what}`;
      let reply: { ok?: unknown; error?: { statusCode?: unknown; code?: unknown; field?: unknown } };
      try {
        const m = await opts.nc.request(`${opts.prefix}${h.subject.slice("nexus".length)}`, h.payload, {
          timeout: 10_000,
        });
        reply = JSON.parse(new TextDecoder().decode(m.data));
      } catch (err) {
        result.failures.push(`${label}: no JSON reply (${String(err)})`);
        continue;
      }
      const e = reply.error;
      const status = typeof e?.statusCode === "number" ? e.statusCode : 0;
      result.byCode[String(e?.code ?? "ok")] = (result.byCode[String(e?.code ?? "ok")] ?? 0) + 1;
      if (reply.ok !== false || status < 400 || status >= 500)
        result.failures.push(`${label}: answered ${JSON.stringify(reply).slice(0, 200)}`);
      else if (typeof e?.code !== "string" || typeof e.field !== "string" || e.field === "")
        result.failures.push(`${label}: no code or field in ${JSON.stringify(e).slice(0, 200)}`);
      // A field's own part (`labels.x`) names it too.
      else if (h.field !== undefined && e.field !== h.field && !e.field.startsWith(`${h.field}.`))
        result.failures.push(`${label}: names field ${e.field}, expected ${h.field}`);
    }
    if (!(await opts.probe())) result.failures.push(`after ${spec.root}: a good request was not answered`);
  }
  return result;
}
