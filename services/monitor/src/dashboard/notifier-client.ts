import { request } from "undici";

export interface NotificationSummary {
  title: string;
  receiver: string;
  status: string;
  updatedAt: string;
}

export interface SilenceSummary {
  matchers: Array<{ label: string; op: string; value: string }>;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/**
 * The notifier's API, called with the dashboard user's own token (its access rules apply: a token
 * without `viewer` on every namespace gets nothing, shown as not available).
 */
export function createNotifierClient(options: { baseUrl: string | undefined; timeoutMs?: number }) {
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
    /** The newest deliveries (sent, pending or dead), as one line each. */
    async recentNotifications(token: string, limit = 10): Promise<NotificationSummary[] | null> {
      const body = await get<{ items: NotificationSummary[] }>(`/v1/deliveries?limit=${limit}`, token);
      return (
        body?.items.map((d) => ({
          title: d.title,
          receiver: d.receiver,
          status: d.status,
          updatedAt: d.updatedAt,
        })) ?? null
      );
    },
    /** Silences in force now. */
    async activeSilences(token: string): Promise<SilenceSummary[] | null> {
      const body = await get<{ items: Array<SilenceSummary & { state: string }> }>("/v1/silences", token);
      return (
        body?.items
          .filter((s) => s.state === "active")
          .map((s) => ({
            matchers: s.matchers,
            endsAt: s.endsAt,
            createdBy: s.createdBy,
            comment: s.comment,
          })) ?? null
      );
    },
  };
}
export type NotifierClient = ReturnType<typeof createNotifierClient>;
