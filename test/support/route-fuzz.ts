import { readFile } from "node:fs/promises";
import { SECURITY_HEADERS } from "@nexus/kit";
import fc from "fast-check";
import type { Pool } from "pg";

/**
 * Hostile requests for every operation of a service's generated OpenAPI document: malformed path
 * parameters and query values, bodies of the wrong type, without their required fields, huge,
 * invalid UTF-8, with NUL or lone surrogates, deeply nested, with `__proto__`, and wrong media
 * types. `fuzzRoutes` sends them and reports every answer that breaks the project's rule for bad
 * input: a 4xx in the error shape with the usual headers, never a 5xx, never a change.
 */

type Json = Record<string, unknown>;
type Schema = Json & { type?: string | string[]; properties?: Record<string, Schema>; required?: string[] };

export interface Operation {
  method: string;
  /** The document's path, `{name}` style. */
  path: string;
  params: { name: string; in: "path" | "query"; schema: Schema }[];
  body?: { type: string; schema: Schema };
}

export interface HostileRequest {
  op: Operation;
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface InjectAnswer {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}

export interface FuzzTarget {
  service: string;
  openapiFile: string;
  inject(req: {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: string | Buffer;
  }): Promise<InjectAnswer>;
  /** An admin's bearer token, so requests reach validation and the handler. */
  token: string;
  /** Every table of these schemas (but the audit log) is compared before and after each operation. */
  state: { pool: Pool; schema: string; ignore?: string[] }[];
  /** Fast-check seed: the same requests every run unless changed. */
  seed?: number;
  /** Operations that answer with a stream that stays open (server-sent events): only requests they must refuse. */
  streaming?: string[];
  /**
   * 503 codes of dependencies the test runs without (a dependency outage answers 503 naming it):
   * a request valid up to that point may get one.
   */
  absentDependencies?: string[];
  /** At most this many requests per operation, a seeded sample (default: all). */
  perOperation?: number;
}

export interface FuzzFailure {
  request: string;
  status: number;
  problem: string;
}

export interface FuzzResult {
  operations: number;
  requests: number;
  byStatus: Record<string, number>;
  failures: FuzzFailure[];
}

const METHODS = ["get", "put", "post", "patch", "delete"] as const;

/** Local `$ref`s replaced by what they point at (recursive schemas cut at a few levels). */
function dereference(node: unknown, root: Json, depth: number): unknown {
  if (Array.isArray(node)) return node.map((n) => dereference(n, root, depth));
  if (!node || typeof node !== "object") return node;
  const ref = (node as Json).$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    if (depth > 4) return {};
    const target = ref
      .slice(2)
      .split("/")
      .reduce<unknown>(
        (at, key) => (at as Json | undefined)?.[key.replace(/~1/g, "/").replace(/~0/g, "~")],
        root,
      );
    return dereference(target, root, depth + 1);
  }
  return Object.fromEntries(Object.entries(node as Json).map(([k, v]) => [k, dereference(v, root, depth)]));
}

export async function operationsOf(file: string): Promise<Operation[]> {
  const raw = JSON.parse(await readFile(file, "utf8")) as Json;
  const doc = dereference(raw, raw, 0) as Json;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const content = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const [bodyType, media] = Object.entries(content ?? {})[0] ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        params: ((op.parameters as Json[]) ?? [])
          .filter((p) => p.in === "path" || p.in === "query")
          .map((p) => ({
            name: String(p.name),
            in: p.in as "path" | "query",
            schema: (p.schema ?? {}) as Schema,
          })),
        ...(bodyType && media ? { body: { type: bodyType, schema: (media.schema ?? {}) as Schema } } : {}),
      });
    }
  }
  return ops;
}

/** A value the parameter's schema accepts (so the request gets past it to what is under test). */
function validParam(schema: Schema): string {
  if (Array.isArray(schema.enum)) return String(schema.enum[0]);
  if (schema.type === "integer" || schema.type === "number") return "1";
  const pattern = typeof schema.pattern === "string" ? new RegExp(schema.pattern) : undefined;
  const candidates = [
    "fuzz-target",
    "00000000-0000-4000-8000-000000000000",
    "bk-20260101T000000Z-full-abcdef",
    "0123456789abcdef",
    "2026-01-01T00:00:00Z",
  ];
  return candidates.find((c) => !pattern || pattern.test(c)) ?? "fuzz-target";
}

const typeOf = (schema: Schema): string | undefined => {
  if (typeof schema.type === "string") return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== "null");
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) return "object";
  return undefined;
};

/** A JSON value of another type than the schema's. */
function wrongTyped(schema: Schema): unknown {
  switch (typeOf(schema)) {
    case "string":
      return 12345;
    case "integer":
    case "number":
      return "not-a-number";
    case "boolean":
      return "yes";
    case "array":
      return { not: "an array" };
    case "object":
      return ["not", "an", "object"];
    default:
      return undefined;
  }
}

const HOSTILE_SEGMENTS = [
  "%00",
  "a%00b",
  "%ff",
  "%C3%28",
  "%ED%A0%80",
  "__proto__",
  "constructor",
  "..%2F..%2Fetc%2Fpasswd",
  "%20",
  "-1",
  "1e309",
  "' OR 1=1--",
  "a".repeat(3_000),
];
const HOSTILE_QUERY_VALUES = [
  "%00",
  "%ff",
  "%ED%A0%80",
  "not-a-number",
  "-1",
  "99999999999999999999999",
  "x".repeat(5_000),
];

/** A body object with `__proto__` as an own key (JSON.stringify drops it from object literals). */
const PROTO_BODIES = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":{"__proto__":{"isAdmin":true}}}',
];

export function hostileRequests(
  ops: Operation[],
  token: string,
  seed = 20261206,
  streaming: string[] = [],
): HostileRequest[] {
  const out: HostileRequest[] = [];
  const auth = { authorization: `Bearer ${token}` };
  for (const op of ops) {
    const valid: Record<string, string> = {};
    for (const p of op.params) if (p.in === "path") valid[p.name] = encodeURIComponent(validParam(p.schema));
    const urlWith = (pathValues: Record<string, string>, query = "") =>
      op.path.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name] ?? "x") +
      (query ? `?${query}` : "");
    const base = urlWith(valid);
    const minimalBody: Record<string, string> = op.body ? { "content-type": "application/json" } : {};
    const push = (what: string, url: string, headers: Record<string, string>, payload?: string | Buffer) =>
      out.push({
        op,
        what,
        method: op.method,
        url,
        headers: { ...auth, ...headers },
        ...(payload !== undefined ? { payload } : {}),
      });
    const noBodyPayload = op.body ? "{}" : undefined;

    // Path parameters, one at a time, the others valid.
    const generated = fc.sample(fc.string({ unit: "binary", minLength: 1, maxLength: 12 }), {
      seed,
      numRuns: 3,
    });
    for (const p of op.params.filter((x) => x.in === "path")) {
      const values = [...HOSTILE_SEGMENTS, ...generated.map((s) => encodeURIComponent(s))];
      if (typeOf(p.schema) === "integer") values.push("1.5", "0x10", "9007199254740993");
      for (const v of values) {
        push(
          `path ${p.name}=${v.slice(0, 24)}`,
          urlWith({ ...valid, [p.name]: v }),
          minimalBody,
          noBodyPayload,
        );
      }
    }
    // Query values, one at a time; unknown and reserved keys on every operation.
    for (const p of op.params.filter((x) => x.in === "query")) {
      for (const v of HOSTILE_QUERY_VALUES) {
        push(
          `query ${p.name}=${v.slice(0, 24)}`,
          urlWith(valid, `${p.name}=${v}`),
          minimalBody,
          noBodyPayload,
        );
      }
      push(`query ${p.name} twice`, urlWith(valid, `${p.name}=1&${p.name}=2`), minimalBody, noBodyPayload);
    }
    // Keys no operation declares are ignored, as HTTP APIs do, so they are tried on reads only
    // (on a write without other faults they would be a valid request).
    if (op.method === "GET" && !streaming.includes(op.path)) {
      for (const q of ["__proto__=1", "constructor[prototype][polluted]=1", "a=%00"]) {
        push(`query ${q}`, urlWith(valid, q), {});
      }
    }

    // Bodies: every write gets broken JSON; operations with a body get the rest too.
    if (op.method === "GET") continue;
    const json = { "content-type": "application/json" };
    push("body: truncated JSON", base, json, '{"a":');
    push(
      "body: invalid UTF-8",
      base,
      json,
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
    if (!op.body) continue;
    const schema = op.body.schema;
    push("body: empty", base, json, "");
    for (const v of ["[]", '"text"', "123", "null", "true"]) {
      if (typeOf(schema) === "object") push(`body: ${v} instead of an object`, base, json, v);
    }
    if ((schema.required?.length ?? 0) > 0) push("body: {} (required fields missing)", base, json, "{}");
    for (const [name, prop] of Object.entries(schema.properties ?? {}).slice(0, 12)) {
      const wrong = wrongTyped(prop);
      if (wrong !== undefined)
        push(`body: ${name} wrong type`, base, json, JSON.stringify({ [name]: wrong }));
      if (typeOf(prop) === "string") {
        push(`body: ${name} with NUL`, base, json, JSON.stringify({ [name]: "a\u0000b" }));
        push(`body: ${name} lone surrogate`, base, json, `{"${name}":"\\ud800"}`);
        push(`body: ${name} 300 KB`, base, json, JSON.stringify({ [name]: "x".repeat(300_000) }));
      }
    }
    for (const b of PROTO_BODIES) push(`body: ${b.slice(0, 30)}`, base, json, b);
    push("body: nested 500 deep", base, json, `${'{"a":'.repeat(500)}1${"}".repeat(500)}`);
    push("body: over the body limit", base, json, `{"a":"${"x".repeat(3 * 1024 * 1024)}"}`);
    for (const type of [
      "text/plain",
      "application/xml",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "application/json; charset=utf-16",
    ]) {
      push(`content-type ${type}`, base, { "content-type": type }, '{"a":1}');
    }
    // Generated values of any type but the object the body must be (an object could be valid).
    const notAnObject = fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => v === null || typeof v !== "object" || Array.isArray(v));
    for (const random of fc.sample(notAnObject, { seed, numRuns: 4 })) {
      push(`body: generated ${JSON.stringify(random).slice(0, 30)}`, base, json, JSON.stringify(random));
    }
  }
  return out;
}

/** What every answer carries, success or not (the kit's first onRequest hook sets them). */
const ALWAYS_HEADERS = ["x-request-id", ...Object.keys(SECURITY_HEADERS)];

function problemOf(res: InjectAnswer, mustRefuse: boolean, absent: string[]): string | undefined {
  if (res.statusCode === 503 && absent.some((code) => res.body.includes(`"code":"${code}"`)))
    return undefined;
  if (res.statusCode >= 500) return `${res.statusCode}: ${res.body.slice(0, 200)}`;
  for (const name of ALWAYS_HEADERS) {
    if (res.headers[name] === undefined) return `header ${name} missing`;
  }
  if (res.statusCode < 400) return mustRefuse ? `accepted (${res.statusCode})` : undefined;
  let body: { error?: { code?: unknown; message?: unknown; field?: unknown; requestId?: unknown } };
  try {
    body = JSON.parse(res.body);
  } catch {
    return `4xx body is not JSON: ${res.body.slice(0, 80)}`;
  }
  const e = body.error;
  if (!e || typeof e.code !== "string" || typeof e.message !== "string")
    return `4xx without error.code/message: ${res.body.slice(0, 120)}`;
  if (e.requestId !== res.headers["x-request-id"]) return "error.requestId differs from x-request-id";
  if (
    res.statusCode === 400 &&
    ["invalid_request", "invalid_character", "reserved_key"].includes(e.code) &&
    typeof e.field !== "string"
  ) {
    return `400 ${e.code} without field`;
  }
  return undefined;
}

/** Digest per table of a service's state (not the audit log, which records denied requests by design). */
export async function stateDigest(state: FuzzTarget["state"]): Promise<Map<string, string>> {
  const digest = new Map<string, string>();
  for (const { pool, schema, ignore = [] } of state) {
    const tables = await pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
      [schema],
    );
    for (const { name } of tables.rows) {
      if (name === "audit_log" || ignore.includes(name)) continue;
      const r = await pool.query<{ d: string }>(
        `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS d FROM "${schema}"."${name}" t`,
      );
      digest.set(`${schema}.${name}`, r.rows[0]!.d);
    }
  }
  return digest;
}

const changed = (a: Map<string, string>, b: Map<string, string>) =>
  [...b.keys()].filter((k) => a.get(k) !== b.get(k));

export async function fuzzRoutes(target: FuzzTarget): Promise<FuzzResult> {
  const ops = await operationsOf(target.openapiFile);
  const all = hostileRequests(ops, target.token, target.seed, target.streaming);
  const result: FuzzResult = { operations: ops.length, requests: 0, byStatus: {}, failures: [] };
  let before = await stateDigest(target.state);
  for (const op of ops) {
    let requests = all.filter((r) => r.op === op);
    if (target.perOperation && requests.length > target.perOperation) {
      requests = fc.sample(
        fc.shuffledSubarray(requests, { minLength: target.perOperation, maxLength: target.perOperation }),
        {
          seed: target.seed ?? 20261206,
          numRuns: 1,
        },
      )[0]!;
    }
    result.requests += requests.length;
    for (const req of requests) {
      let res: InjectAnswer;
      try {
        let timer: NodeJS.Timeout | undefined;
        res = await Promise.race([
          target.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("no answer within 15 s")), 15_000);
          }),
        ]).finally(() => clearTimeout(timer));
      } catch (err) {
        result.failures.push({
          request: `${req.method} ${op.path} ${req.what}`,
          status: 0,
          problem: `inject threw: ${String(err)}`,
        });
        continue;
      }
      const absentDependency =
        res.statusCode === 503 &&
        (target.absentDependencies ?? []).some((c) => res.body.includes(`"code":"${c}"`));
      const bucket = absentDependency ? "503 absent dependency" : `${Math.floor(res.statusCode / 100)}xx`;
      result.byStatus[bucket] = (result.byStatus[bucket] ?? 0) + 1;
      const mustRefuse = req.method !== "GET";
      const problem = problemOf(res, mustRefuse, target.absentDependencies ?? []);
      if (problem)
        result.failures.push({
          request: `${req.method} ${req.url.slice(0, 120)} (${req.what})`,
          status: res.statusCode,
          problem,
        });
    }
    const after = await stateDigest(target.state);
    const diff = changed(before, after);
    if (diff.length > 0) {
      result.failures.push({
        request: `${op.method} ${op.path}`,
        status: 0,
        problem: `state changed: ${diff.join(", ")}`,
      });
      before = after;
    }
  }
  return result;
}
