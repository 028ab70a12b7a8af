import type { HttpJsonClient } from "./http-json.js";

export interface AlertView {
  fingerprint: string;
  rule: string;
  status: "pending" | "firing" | "resolved";
  severity: string;
  summary: string;
  labels: Record<string, string>;
  activeSince: string;
}

/** The monitor's health model of a namespace: its alerts (drift findings, rules with namespace labels). */
export function createMonitorClient(http: HttpJsonClient) {
  return {
    /** Alerts firing now about (namespace, environment). */
    async firingAbout(namespace: string, environment: string): Promise<AlertView[]> {
      const got = await http.get<{ items: AlertView[] }>("/v1/alerts?status=firing&limit=500");
      return (got?.items ?? []).filter(
        (a) => a.labels.namespace === namespace && a.labels.environment === environment,
      );
    },
  };
}
export type MonitorClient = ReturnType<typeof createMonitorClient>;
