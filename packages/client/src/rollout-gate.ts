import {
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/transport-node";
import { type RolloutTargetCommand, RolloutTargetReply } from "@nexus/contracts";
import { NexusConfigError, reasonOf } from "./errors.js";
import type { Target } from "./subjects.js";
import { natsTraceHeaders } from "./tracing-nats.js";

export type RolloutAnswer =
  | { decision: "apply" }
  | { decision: "hold"; rolloutId: string; holdRevision: number; wave: number | null };

export interface RolloutGate {
  /**
   * May this instance apply `revision` now? Nobody serving the question (no orchestrator, or no
   * NATS) means yes; an orchestrator that does not answer in time is `unavailable` (retried),
   * so a wave rollout is never skipped because its answer was late.
   */
  ask(nc: NatsConnection | undefined, revision: number): Promise<RolloutAnswer>;
}

export function createRolloutGate(
  options: Target & {
    /** The prefixed `nexus.rollout.cmd.target.<environment>.<namespace>` subject. */
    subject: string;
    service: string;
    instanceId: string;
    labels: Record<string, string>;
    timeoutMs: number;
  },
): RolloutGate {
  return {
    async ask(nc, revision) {
      if (!nc || nc.isClosed()) return { decision: "apply" };
      const command: RolloutTargetCommand = {
        schemaVersion: 1,
        namespace: options.namespace,
        environment: options.environment,
        service: options.service,
        instanceId: options.instanceId,
        labels: options.labels,
        revision,
      };
      let text: string;
      try {
        const msg = await nc.request(options.subject, JSON.stringify(command), {
          timeout: options.timeoutMs,
          ...natsTraceHeaders(),
        });
        text = msg.string();
      } catch (err) {
        if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders()))
          return { decision: "apply" };
        // This service's NATS user may not ask (its permissions predate rollouts): it is not in any.
        if (err instanceof PermissionViolationError) return { decision: "apply" };
        throw new NexusConfigError(
          "unavailable",
          `the orchestrator did not say whether a rollout holds revision ${revision}: ${reasonOf(err)}`,
          { cause: err },
        );
      }
      let reply: RolloutTargetReply;
      try {
        reply = RolloutTargetReply.parse(JSON.parse(text));
      } catch (err) {
        throw new NexusConfigError(
          "invalid_response",
          `the reply on ${options.subject} breaks the contract`,
          {
            cause: err,
          },
        );
      }
      if (!reply.ok)
        throw new NexusConfigError(
          reply.error.statusCode >= 500 ? "unavailable" : "request_failed",
          `the orchestrator refused the rollout question (${reply.error.code}): ${reply.error.message}`,
          { statusCode: reply.error.statusCode, details: reply.error },
        );
      if (reply.decision === "apply") return { decision: "apply" };
      return {
        decision: "hold",
        rolloutId: reply.rolloutId,
        holdRevision: reply.holdRevision,
        wave: reply.wave,
      };
    },
  };
}
