/** Parsing of `${...}` templates inside string values; the syntax is described in resolve-fns.ts. */
import { NAME_PATTERN } from "@nexus/contracts";
import { parsePointer } from "../documents/document-fns.js";

// ---------------------------------------------------------------------------------------------
// Template parsing

export type ParsedReference =
  | { kind: "env"; name: string }
  | {
      kind: "ref";
      namespace: string | undefined;
      tokens: string[];
      /** `${secret:...}`: the target must be a secret (set only then). */
      secret?: true;
    }
  | { kind: "invalid"; reason: string };

export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "ref"; raw: string; ref: ParsedReference };

const VARIABLE_NAME = /^[A-Za-z0-9_.-]+$/;
const PATH_SEGMENT = /^([^[\]]+)((?:\[\d+\])*)$/;

/**
 * Splits a string into literal text and references. Scanning is left to right: at each
 * position `$${` is an escaped literal `${`, else `${` opens a reference that the next `}`
 * closes. So `$${a}` is the text `${a}`, and `$$${a}` is `$` followed by the text `${a}`.
 * Returns `null` when the string holds no `${` at all (the common case: nothing to do).
 */
export function parseTemplate(s: string): TemplatePart[] | null {
  if (!s.includes("${")) return null;
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < s.length) {
    if (s.startsWith("$${", i)) {
      text += "${";
      i += 3;
      continue;
    }
    if (s.startsWith("${", i)) {
      if (text !== "") parts.push({ kind: "text", text });
      text = "";
      const end = s.indexOf("}", i + 2);
      if (end < 0) {
        parts.push({
          kind: "ref",
          raw: s.slice(i),
          ref: { kind: "invalid", reason: "the reference is not closed by }" },
        });
        return parts;
      }
      const raw = s.slice(i, end + 1);
      parts.push({ kind: "ref", raw, ref: parseReferenceBody(s.slice(i + 2, end)) });
      i = end + 1;
      continue;
    }
    text += s[i];
    i++;
  }
  if (text !== "") parts.push({ kind: "text", text });
  return parts;
}

function parseReferenceBody(body: string): ParsedReference {
  if (body.includes("${")) return { kind: "invalid", reason: "references cannot be nested" };
  const colon = body.indexOf(":");
  const kind = colon < 0 ? body : body.slice(0, colon);
  const rest = colon < 0 ? "" : body.slice(colon + 1);
  if (colon < 0 || (kind !== "env" && kind !== "ref" && kind !== "secret")) {
    return {
      kind: "invalid",
      reason: `unknown reference kind ${JSON.stringify(kind)} (use env:, ref: or secret:)`,
    };
  }
  if (kind === "env") {
    return VARIABLE_NAME.test(rest)
      ? { kind: "env", name: rest }
      : { kind: "invalid", reason: `invalid variable name ${JSON.stringify(rest)}` };
  }
  let namespace: string | undefined;
  let path = rest;
  if (!rest.startsWith("/")) {
    const sep = rest.indexOf(":");
    if (sep >= 0) {
      namespace = rest.slice(0, sep);
      path = rest.slice(sep + 1);
      if (!NAME_PATTERN.test(namespace)) {
        return { kind: "invalid", reason: `invalid namespace name ${JSON.stringify(namespace)}` };
      }
    }
  }
  const tokens = parsePath(path);
  if (tokens === null) return { kind: "invalid", reason: `invalid path ${JSON.stringify(path)}` };
  return kind === "secret"
    ? { kind: "ref", namespace, tokens, secret: true }
    : { kind: "ref", namespace, tokens };
}

/** A dot path (`a.b[0].c`) or a JSON pointer (`/a/b/0/c`) → raw tokens; `null` if malformed or empty. */
export function parsePath(path: string): string[] | null {
  if (path === "") return null;
  if (path.startsWith("/")) return parsePointer(path);
  const tokens: string[] = [];
  for (const segment of path.split(".")) {
    const m = PATH_SEGMENT.exec(segment);
    if (!m) return null;
    tokens.push(m[1]!);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) tokens.push(index[1]!);
  }
  return tokens;
}
