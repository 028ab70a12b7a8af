/** Parsing for `nexus notifier`: matchers, durations, the notifier URL setting. No I/O. */
import { usageError } from "../exit-codes.js";

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** `namespace=payments`, `env!=dev`, `service=~pay.*`, `instance!~canary-.*`. */
export function parseMatcher(text: string): Matcher {
  const m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/.exec(text.trim());
  if (!m) {
    throw usageError(
      `not a matcher: ${JSON.stringify(text)}; write label=value, label!=value, label=~regex or label!~regex`,
      "matcher",
    );
  }
  const value = m[3]!.replace(/^"(.*)"$/, "$1");
  return { label: m[1]!, op: m[2] as Matcher["op"], value };
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `2h`, `1d12h` → milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw usageError(`not a duration: ${JSON.stringify(text)}; write e.g. 30m, 2h or 1d12h`, "duration");
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
}

/**
 * The notifier's URL the way the registry's is found: `--notifier-url` > `NEXUS_NOTIFIER_URL` >
 * `notifierUrl` in the config file. Returned without a trailing slash.
 */
export function resolveNotifierUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown> | null,
): { url: string; source: "flag" | "env" | "config" } | null {
  return resolveServiceUrl(flag, env, file, {
    flag: "notifier-url",
    env: "NEXUS_NOTIFIER_URL",
    fileKey: "notifierUrl",
  });
}

/** A service's URL: its flag > its environment variable > its key in the config file. */
export function resolveServiceUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown> | null,
  names: { flag: string; env: string; fileKey: string },
): { url: string; source: "flag" | "env" | "config" } | null {
  const fromFile = typeof file?.[names.fileKey] === "string" ? (file[names.fileKey] as string) : undefined;
  const fromEnv = env[names.env];
  const [raw, source] = flag
    ? [flag, "flag" as const]
    : fromEnv
      ? [fromEnv, "env" as const]
      : fromFile
        ? [fromFile, "config" as const]
        : [undefined, undefined];
  if (!raw || !source) return null;
  const where =
    source === "flag"
      ? `--${names.flag}`
      : source === "env"
        ? names.env
        : `the config file's ${names.fileKey}`;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usageError(`${where} is not a URL`, names.flag);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`${where} must start with http:// or https://`, names.flag);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw usageError(`${where} must not carry credentials, a query or a fragment`, names.flag);
  }
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, source };
}

/** A silence version's changes in words: `endsAt 10:00Z → 12:00Z; comment a → b`. */
export function describeSilenceChanges(
  changes: readonly { field: string; from: unknown; to: unknown }[] | undefined,
): string {
  const show = (v: unknown): string =>
    v === null || v === undefined
      ? "none"
      : Array.isArray(v)
        ? v.map((m: Matcher) => `${m.label}${m.op}${m.value}`).join(",")
        : typeof v === "string"
          ? v
          : JSON.stringify(v);
  return (changes ?? []).map((c) => `${c.field} ${show(c.from)} → ${show(c.to)}`).join("; ") || "no change";
}
