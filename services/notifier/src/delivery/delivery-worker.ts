import { inWorkSpan, type Logger, type Pool, type Queryable, type SealingKeys } from "@nexus/kit";
import { withAsyncCommit } from "../async-commit.js";
import type { Senders } from "../receivers/senders.js";
import type { RoutingService } from "../routing/routing-service.js";
import type { Receiver } from "../routing/routing-types.js";
import { openReceiverSecrets, ReceiverSecretError, scrubSecrets } from "../routing/secret-fns.js";
import { type BackoffPolicy, nextState, type SendOutcome } from "./delivery-fns.js";
import type { DeliveryRow, DeliveryStore, Mark } from "./delivery-store.js";

export interface DeliveryWorkerDeps {
  pool: Pool;
  logger: Logger;
  store: DeliveryStore;
  /** The alerts' history (alerts/alert-store answers it): notified, or dead-lettered. */
  alerts: {
    addHistory(
      q: Queryable,
      entries: {
        fingerprint: string;
        kind: string;
        actor?: string | null;
        detail?: Record<string, unknown>;
      }[],
    ): Promise<unknown>;
  };
  routing: Pick<RoutingService, "current">;
  senders: Senders;
  /** Opens receiver secrets right before sending. */
  keys: SealingKeys;
  backoff: BackoffPolicy;
  /** How long a claim holds; a worker that dies mid-send leaves it to expire and another sends again. */
  leaseMs: number;
  batchSize: number;
  /** After a delivery's result is recorded (metrics): delivered, retry, dead or postponed. */
  onRecorded?: (receiverType: string, outcome: Outcome) => void;
}

type Outcome = "delivered" | "retry" | "dead" | "postponed";

/** Claims due deliveries (SKIP LOCKED: instances share them), sends each, records the outcome. */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const { pool, store, logger } = deps;

  /**
   * One attempt as a span of its own, in the trace of the alert it tells about (a config change's
   * notice shows in the change's trace, however long after it the worker sends).
   */
  function deliverTraced(row: DeliveryRow): Promise<void> {
    return inWorkSpan(
      `deliver ${row.receiver_type}`,
      {
        traceparent: row.trace_parent,
        kind: "client",
        attributes: {
          "nexus.delivery.id": row.id,
          "nexus.delivery.attempt": row.attempts,
          "nexus.delivery.action": row.action,
          "nexus.receiver.name": row.receiver,
          "nexus.receiver.type": row.receiver_type,
        },
      },
      async (span) => {
        const outcome = await deliver(row);
        span.setAttribute("nexus.delivery.outcome", outcome);
      },
    );
  }

  async function deliver(row: DeliveryRow): Promise<Outcome | "unrecorded"> {
    const routing = await deps.routing.current();
    const receiver = routing?.config.receivers.find((r) => r.name === row.receiver);
    const outcome: SendOutcome = !receiver
      ? { kind: "fail", statusCode: null, error: `receiver ${row.receiver} no longer exists` }
      : receiver.type !== row.receiver_type
        ? {
            kind: "fail",
            statusCode: null,
            error: `receiver ${row.receiver} is now of type ${receiver.type}`,
          }
        : await sendWithSecrets(receiver, row);
    const next = nextState(outcome, row.attempts, row.max_attempts, deps.backoff);
    const statusCode = outcome.kind === "postpone" ? null : outcome.statusCode;
    const error = outcome.kind === "retry" || outcome.kind === "fail" ? outcome.error : null;
    const mark: Mark =
      next.status === "delivered"
        ? { status: "delivered", statusCode }
        : next.status === "pending"
          ? {
              status: "pending",
              retryInMs: next.retryInMs,
              statusCode,
              error,
              countAttempt: outcome.kind !== "postpone",
            }
          : { status: "dead", statusCode, error, reason: next.reason };
    const where = {
      deliveryId: row.id,
      receiver: row.receiver,
      type: row.receiver_type,
      attempt: row.attempts,
    };
    // The outcome and its history line commit together: whoever sees the status sees the line.
    const recorded = await withAsyncCommit(pool, async (c) => {
      if (!(await store.mark(c, row.id, mark))) return false;
      if (mark.status === "pending") return true;
      await deps.alerts.addHistory(
        c,
        row.fingerprints.map((fingerprint) => ({
          fingerprint,
          kind: mark.status === "delivered" ? "notified" : "notification dead-lettered",
          actor: null,
          detail: {
            receiver: row.receiver,
            receiverType: row.receiver_type,
            action: row.action,
            deliveryId: row.id,
            attempts: row.attempts,
            statusCode,
            ...(mark.status === "dead" ? { reason: mark.reason } : {}),
          },
        })),
      );
      return true;
    });
    if (!recorded) {
      logger.warn(
        where,
        "a delivery changed while it was being sent (lease expired?); its result was not recorded",
      );
      return "unrecorded";
    }
    const recordedAs: Outcome =
      mark.status === "pending" ? (outcome.kind === "postpone" ? "postponed" : "retry") : mark.status;
    deps.onRecorded?.(row.receiver_type, recordedAs);
    if (mark.status === "delivered") {
      logger.info({ ...where, status: statusCode }, "notification delivered");
    } else if (mark.status === "dead") {
      logger.error({ ...where, status: statusCode, reason: mark.reason }, "notification dead-lettered");
    } else if (outcome.kind !== "postpone") {
      logger.warn(
        { ...where, status: statusCode, error, retryInMs: mark.retryInMs },
        "notification failed, will retry",
      );
    }
    return recordedAs;
  }

  /** Secrets are opened here, for this one send, and cut out of whatever comes back. */
  async function sendWithSecrets(sealed: Receiver, row: DeliveryRow): Promise<SendOutcome> {
    let receiver: Receiver;
    try {
      receiver = openReceiverSecrets(sealed, deps.keys);
    } catch (err) {
      if (!(err instanceof ReceiverSecretError)) throw err;
      // A key not configured here may be a rollout in progress (retry); a value that does not
      // authenticate was changed, and retrying will not fix it.
      const retry = err.sealError.reason === "unknown_key";
      return { kind: retry ? "retry" : "fail", statusCode: null, error: err.message };
    }
    const outcome = await deps.senders.send(receiver, {
      id: row.id,
      action: row.action as never,
      message: row.message,
    });
    return "error" in outcome && typeof outcome.error === "string"
      ? { ...outcome, error: scrubSecrets(outcome.error, receiver) }
      : outcome;
  }

  return {
    async runOnce(): Promise<number> {
      const rows = await withAsyncCommit(pool, (c) => store.claim(c, deps.batchSize, deps.leaseMs));
      await Promise.all(
        rows.map((r) =>
          deliverTraced(r).catch((err) =>
            logger.error({ err, deliveryId: r.id }, "recording a delivery failed"),
          ),
        ),
      );
      return rows.length;
    },
    nextDueAt: () => store.nextDueAt(pool),
  };
}
