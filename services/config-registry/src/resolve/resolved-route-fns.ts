import { NAME_PATTERN } from "@nexus/contracts";
import type { FastCheck } from "@nexus/kit";

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
