/**
 * A small structural check of response bodies. The CLI does not load zod: it costs a third of a
 * second of start-up under tsx on every command, and all the CLI needs is to notice a body that
 * is not what the registry sends (wrong server, proxy page) before using it. No I/O.
 *
 * A spec is a primitive name (`"string"`, `"number"`, `"boolean"`, `"object"`, `"array"`,
 * `"null"`, or two joined by `|`), an object of specs (a key ending in `?` may be absent; other
 * keys pass through unchecked), or `[spec]` for an array of that spec.
 */
type Leaf = "string" | "number" | "boolean" | "object" | "array" | "null" | "any";
export type Spec = Leaf | `${Leaf}|${Leaf}` | { readonly [key: string]: Spec } | readonly [Spec];

/** The first place `value` departs from `spec` (`items[2].revision: expected number, got string`), or undefined. */
export function mismatch(value: unknown, spec: Spec, path = ""): string | undefined {
  if (typeof spec === "string") {
    const kinds = spec.split("|");
    return kinds.some((k) => is(value, k))
      ? undefined
      : `${path || "body"}: expected ${spec}, got ${kindOf(value)}`;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return `${path || "body"}: expected array, got ${kindOf(value)}`;
    for (let i = 0; i < value.length; i++) {
      const found = mismatch(value[i], spec[0] as Spec, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!is(value, "object")) return `${path || "body"}: expected object, got ${kindOf(value)}`;
  const record = value as Record<string, unknown>;
  for (const [rawKey, child] of Object.entries(spec as Record<string, Spec>)) {
    const optional = rawKey.endsWith("?");
    const key = optional ? rawKey.slice(0, -1) : rawKey;
    const childPath = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(record, key) || record[key] === undefined) {
      if (optional) continue;
      return `${childPath}: missing`;
    }
    const found = mismatch(record[key], child, childPath);
    if (found) return found;
  }
  return undefined;
}

function is(value: unknown, kind: string): boolean {
  switch (kind) {
    case "any":
      return true;
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return typeof value === kind;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
