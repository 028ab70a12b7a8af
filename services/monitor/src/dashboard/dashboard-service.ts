import { canAccess, NotFoundError, type Pool, type Principal } from "@nexus/kit";
import { type AlertDto, mayViewAlert } from "../alerts/alert-router.js";
import type { ConfigHead, HeadStore } from "../heads/head-store.js";
import type { HealthSummary } from "../health/health-types.js";
import type { Convergence, DriftClient } from "./drift-client.js";
import type { NotificationSummary, NotifierClient, SilenceSummary } from "./notifier-client.js";

export interface GridCell extends ConfigHead {
  convergence: Convergence | null;
  openFindings: number | null;
}

export interface DashboardState {
  user: string;
  health: HealthSummary;
  alerts: AlertDto[];
  grid: GridCell[];
  /** False when the drift-detector could not be asked: convergence and findings are unknown. */
  driftAvailable: boolean;
  /** From the notifier with the user's token; null when it could not be asked or refused the token. */
  notifications: NotificationSummary[] | null;
  silences: SilenceSummary[] | null;
}

const GRID_LIMIT = 1_000;

export const mayView = (p: Principal, h: Pick<ConfigHead, "namespace" | "environment">) =>
  canAccess(p, "viewer", { namespace: h.namespace, environment: h.environment });

export function createDashboardService(deps: {
  pool: Pool;
  heads: HeadStore;
  drift: DriftClient;
  notifier: NotifierClient;
  health: () => HealthSummary;
  alerts: () => Promise<AlertDto[]>;
}) {
  return {
    /** Everything the dashboard shows, as this user may see it. */
    async state(principal: Principal, token: string | undefined): Promise<DashboardState> {
      const [heads, alerts, findings, convergence, notifications, silences] = await Promise.all([
        deps.heads.list(deps.pool, GRID_LIMIT),
        deps.alerts(),
        token ? deps.drift.findings(token) : Promise.resolve(null),
        token ? deps.drift.allConvergence(token) : Promise.resolve(null),
        token ? deps.notifier.recentNotifications(token) : Promise.resolve(null),
        token ? deps.notifier.activeSilences(token) : Promise.resolve(null),
      ]);
      const grid = heads
        .filter((h) => mayView(principal, h))
        .map((h) => ({
          ...h,
          convergence: convergence?.get(`${h.namespace}/${h.environment}`) ?? null,
          openFindings:
            findings === null
              ? null
              : findings.filter((f) => f.namespace === h.namespace && f.environment === h.environment).length,
        }));
      return {
        user: principal.name,
        health: deps.health(),
        alerts: alerts.filter((a) => mayViewAlert(principal, a)),
        grid,
        driftAvailable: findings !== null,
        notifications,
        silences,
      };
    },

    /** One grid cell again (after an instance acked, or a new revision): two calls, not the grid's. */
    async cell(
      principal: Principal,
      token: string | undefined,
      namespace: string,
      environment: string,
    ): Promise<GridCell> {
      const head = await deps.heads.get(deps.pool, namespace, environment);
      if (!head || !mayView(principal, head))
        throw new NotFoundError("not_found", `no configuration of ${namespace} in ${environment} is known`, {
          field: "ns",
        });
      const [convergence, findings] = token
        ? await Promise.all([
            deps.drift.convergence(token, namespace, environment),
            deps.drift.findings(token),
          ])
        : [null, null];
      return {
        ...head,
        convergence,
        openFindings:
          findings === null
            ? null
            : findings.filter((f) => f.namespace === namespace && f.environment === environment).length,
      };
    },
  };
}
export type DashboardService = ReturnType<typeof createDashboardService>;
