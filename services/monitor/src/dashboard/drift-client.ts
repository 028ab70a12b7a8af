import type { FindingDto, RevisionConvergenceDto } from "@nexus/contracts";
import { request } from "undici";

/** What the dashboard shows of a revision's convergence (the drift-detector's answer). */
export type Convergence = Pick<
  RevisionConvergenceDto,
  "revision" | "applied" | "rejected" | "runningNow" | "stillOlder" | "converged"
>;

/** What the dashboard shows of an open finding. */
export type FindingSummary = Pick<FindingDto, "namespace" | "environment" | "kind" | "severity" | "summary">;

/**
 * The drift-detector's API, called with the dashboard user's own token: the detector applies its
 * access rules to them as to any client, so the dashboard shows nothing the user could not read.
 */
export function createDriftClient(options: { baseUrl: string | undefined; timeoutMs?: number }) {
  const timeout = options.timeoutMs ?? 2_000;
  async function get<T>(path: string, token: string): Promise<T | null> {
    if (!options.baseUrl) return null;
    try {
      const res = await request(new URL(path, options.baseUrl), {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return null;
      }
      return (await res.body.json()) as T;
    } catch {
      return null;
    }
  }
  return {
    configured: () => options.baseUrl !== undefined,
    async findings(token: string): Promise<FindingSummary[] | null> {
      const body = await get<{ items: FindingSummary[] }>("/v1/findings", token);
      return body?.items ?? null;
    },
    /** The newest revision's convergence of every namespace/environment the token may view, by `ns/env`. */
    async allConvergence(token: string): Promise<Map<string, Convergence> | null> {
      const body = await get<{ items: Array<Convergence & { namespace: string; environment: string }> }>(
        "/v1/convergence",
        token,
      );
      return body ? new Map(body.items.map((c) => [`${c.namespace}/${c.environment}`, c])) : null;
    },
    async convergence(token: string, namespace: string, environment: string): Promise<Convergence | null> {
      const body = await get<{ items: Convergence[] }>(
        `/v1/namespaces/${encodeURIComponent(namespace)}/environments/${encodeURIComponent(environment)}/convergence?limit=1`,
        token,
      );
      return body?.items[0] ?? null;
    },
  };
}
export type DriftClient = ReturnType<typeof createDriftClient>;
