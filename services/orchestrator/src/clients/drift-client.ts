import type { HttpJsonClient } from "./http-json.js";

export interface InstanceView {
  instanceId: string;
  revision: number | null;
  status: "live" | "cache" | "stopping" | "gone" | "unknown";
  rejected: { revision: number; reason: string | null } | null;
}

export interface FindingView {
  id: string;
  kind: string;
  summary: string;
  expected: { revision: number | null };
  firstSeenAt: string;
}

/** The drift-detector's inventory and findings, over its HTTP API. */
export function createDriftClient(http: HttpJsonClient) {
  const env = (ns: string, environment: string) =>
    `/v1/namespaces/${encodeURIComponent(ns)}/environments/${encodeURIComponent(environment)}`;
  return {
    async instances(namespace: string, environment: string): Promise<InstanceView[]> {
      const got = await http.get<{ items: InstanceView[] }>(`${env(namespace, environment)}/instances`);
      return got?.items ?? [];
    },
    async activeFindings(namespace: string, environment: string): Promise<FindingView[]> {
      const q = new URLSearchParams({ namespace, environment, status: "active" });
      const got = await http.get<{ items: FindingView[] }>(`/v1/findings?${q}`);
      return got?.items ?? [];
    },
  };
}
export type DriftClient = ReturnType<typeof createDriftClient>;
