import type { NatsConnection } from "@nats-io/transport-node";
import { SERVICE_HEARTBEAT } from "@nexus/contracts";
import type { Bus, Logger, Stoppable } from "@nexus/kit";
import type { HealthModel } from "./health-model.js";

/**
 * Every monitor instance hears every heartbeat (a plain subscription, no queue group): each keeps
 * the whole health model, so any of them can serve the dashboard and take over evaluation.
 */
export function subscribeHeartbeats(deps: {
  nc: NatsConnection;
  bus: Pick<Bus, "subject">;
  model: HealthModel;
  logger: Logger;
  onChange: () => void;
}): Stoppable {
  const root = deps.bus.subject(SERVICE_HEARTBEAT);
  const depth = root.split(".").length;
  const sub = deps.nc.subscribe(`${root}.>`);
  // One warning per offending subject per minute: a misconfigured sender must not flood the log.
  const warnedAt = new Map<string, number>();
  const refuse = (subject: string, reason: string, field?: string) => {
    const now = Date.now();
    if ((warnedAt.get(subject) ?? 0) > now - 60_000) return;
    warnedAt.set(subject, now);
    deps.logger.warn({ subject, field }, `heartbeat refused: ${reason}`);
  };
  void (async () => {
    for await (const msg of sub) {
      const tokens = msg.subject.split(".").slice(depth);
      if (tokens.length !== 2) {
        refuse(msg.subject, "the subject must be <prefix>.service.heartbeat.<service>.<instance>");
        continue;
      }
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        refuse(msg.subject, "the body is not JSON");
        continue;
      }
      const result = deps.model.ingest(tokens, body, Date.now());
      if (!result.ok) refuse(msg.subject, result.reason, result.field);
      else if (result.changed) deps.onChange();
    }
  })();
  return {
    async stop() {
      sub.unsubscribe();
    },
  };
}
