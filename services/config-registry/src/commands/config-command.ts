import { CONFIG_SET_COMMAND, ConfigSetCommand, ConfigSetReply } from "@nexus/contracts";
import { assertSubjectMatchesBody, type Bus, DOCUMENT_COMMAND_MAX_BYTES } from "@nexus/kit";
import type { WriteService } from "../writes/write-service.js";

/**
 * `nexus.config.cmd.set.<layer>.<namespace>` over NATS request/reply: the same write path,
 * validation and error codes as `PUT /v1/namespaces/{ns}/layers/{layer}`, for services that
 * publish config changes. The body must name the subject's target (NATS permissions scope the
 * subject).
 */
export function serveConfigCommands(deps: {
  bus: Pick<Bus, "serveCommand" | "subject">;
  writes: Pick<WriteService, "replace">;
}) {
  const root = deps.bus.subject(CONFIG_SET_COMMAND);
  return deps.bus.serveCommand({
    subject: `${CONFIG_SET_COMMAND}.>`,
    request: ConfigSetCommand,
    reply: ConfigSetReply,
    queue: "config-registry",
    maxRequestBytes: DOCUMENT_COMMAND_MAX_BYTES,
    handler: async (cmd, ctx) => {
      assertSubjectMatchesBody(root, ctx.subject, [
        ["layer", cmd.layer],
        ["namespace", cmd.namespace],
      ]);
      const result = await deps.writes.replace(cmd.namespace, cmd.layer, cmd.content, {
        author: cmd.author,
        message: cmd.message ?? "",
        source: "nats",
        expectedRevision: cmd.expectedRevision,
        traceparent: ctx.traceparent,
        // Committed with the revision, like an API write's. The author is the sender's own word:
        // NATS permissions, not a token, decide who may send to this subject.
        audit: {
          actor: `nats:${cmd.author}`,
          action: "config.cmd.set",
          resource: `/v1/namespaces/${cmd.namespace}/layers/${cmd.layer}`,
          outcome: "allowed",
          details: { subject: ctx.subject, actorName: cmd.author },
        },
      });
      return {
        ok: true as const,
        namespace: result.namespace,
        layer: result.layer,
        revision: result.revision,
        hash: result.hash,
      };
    },
  });
}
