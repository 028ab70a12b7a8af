import { NAME_PATTERN } from "@nexus/contracts";
import { BadRequestError, type FastCheck } from "@nexus/kit";

const isName = (v: unknown): v is string => typeof v === "string" && v.length <= 63 && NAME_PATTERN.test(v);

/**
 * The resolved read's request checks without zod (it cost about 14% of this route's throughput,
 * test/bench/README.md): they accept exactly what `ResolvedParams` / `ResolvedQuery` accept, with
 * the same value; anything else goes to zod for the usual error.
 */
export const resolvedParamsCheck: FastCheck = (data) => {
  const d = data as Record<string, unknown>;
  if (!isName(d.ns) || !isName(d.env)) return undefined;
  for (const key in d) if (key !== "ns" && key !== "env") return undefined;
  return { value: { ns: d.ns, env: d.env } };
};

export const resolvedQueryCheck: FastCheck = (data) => {
  const d = data as Record<string, unknown>;
  let explain = false;
  for (const key in d) {
    if (key !== "explain") return undefined;
    if (d.explain === "true") explain = true;
    else if (d.explain !== "false") return undefined;
  }
  return { value: { explain } };
};

/** The document a client was told about by `config.changed`: its revision and hash. */
export interface AwaitedVersion {
  revision: number;
  hash: string;
}

export const AWAITED_HEADER = "nexus-awaited";
const AWAITED = /^(0|[1-9]\d{0,15}):([0-9a-f]{64})$/;

/**
 * `Nexus-Awaited: <revision>:<hash>` of a read: the version the caller heard of. Absent: undefined;
 * anything but one such value: 400 naming the header.
 */
export function awaitedVersionOf(value: string | string[] | undefined): AwaitedVersion | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === "string" ? AWAITED.exec(value) : null;
  if (!match)
    throw new BadRequestError(
      "invalid_header",
      "Nexus-Awaited must be <revision>:<sha256 hex> (the revision and hash of a config.changed event)",
      { field: AWAITED_HEADER },
    );
  return { revision: Number(match[1]), hash: match[2]! };
}
