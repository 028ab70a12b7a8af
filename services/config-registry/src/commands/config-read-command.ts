import { CONFIG_GET_COMMAND, ConfigGetCommand, ConfigGetReply } from "@nexus/contracts";
import { assertSubjectMatchesBody, type Bus, type EncodedReply, encodeReply } from "@nexus/kit";
import type { ResolveHistory } from "../resolve/resolve-history.js";
import type { ResolveReadService } from "../resolve/resolve-read-service.js";

/** Documents whose encoded reply is kept; past that, the one encoded longest ago goes first. */
const MAX_ENCODED_REPLIES = 500;

/**
 * `nexus.config.cmd.get.<environment>.<namespace>` over NATS request/reply: the resolved document
 * of one (namespace, environment), read the way `GET .../environments/{env}/resolved` reads it,
 * with the same 404 codes. The body must name the subject's target (NATS permissions scope the
 * subject). `ifNoneMatch` makes it a conditional read (like `If-None-Match`: it skips this
 * process's in-memory cache) and, when it equals the current hash, answers `notModified` without
 * content. Documents with secrets come back redacted, as stored. `revision` reads the document as
 * of that namespace revision (`?revision=` over HTTP): instances ask for it when they start during
 * a wave rollout whose wave is not released, so its encoded reply is kept too, beside the newest.
 */
export function serveConfigReadCommands(deps: {
  bus: Pick<Bus, "serveCommand" | "subject">;
  reads: Pick<ResolveReadService, "get">;
  history: Pick<ResolveHistory, "at">;
}) {
  const root = deps.bus.subject(CONFIG_GET_COMMAND);
  // After a change, every client of a document asks for it within a few ms: the reply with its
  // content is parsed, checked and serialised once per (target, revision, hash), not per client.
  const replies = new Map<
    string,
    { revision: number; hash: string; reply: EncodedReply<typeof ConfigGetReply> }
  >();
  return deps.bus.serveCommand({
    subject: `${CONFIG_GET_COMMAND}.>`,
    request: ConfigGetCommand,
    reply: ConfigGetReply,
    queue: "config-registry",
    handler: async (cmd, ctx) => {
      assertSubjectMatchesBody(root, ctx.subject, [
        ["environment", cmd.environment],
        ["namespace", cmd.namespace],
      ]);
      const head =
        cmd.revision === undefined
          ? await deps.reads.get(cmd.namespace, cmd.environment, {
              conditional: cmd.ifNoneMatch !== undefined,
            })
          : await deps.history.at(cmd.namespace, cmd.environment, cmd.revision);
      const found = {
        ok: true as const,
        namespace: head.namespace,
        environment: head.environment,
        revision: head.revision,
        hash: head.hash,
      };
      if (cmd.ifNoneMatch === head.hash) return { ...found, notModified: true as const };
      const key = `${head.namespace}\u0000${head.environment}${cmd.revision === undefined ? "" : "\u0000past"}`;
      const known = replies.get(key);
      if (known && known.revision === head.revision && known.hash === head.hash) return known.reply;
      // The stored body is the exact HTTP response, rendered at write time from validated data.
      const { content, secretDigests } = JSON.parse(head.body) as {
        content: Record<string, unknown>;
        secretDigests?: Record<string, string>;
      };
      const reply = encodeReply(ConfigGetReply, {
        ...found,
        notModified: false as const,
        content,
        ...(secretDigests ? { secretDigests } : {}),
      });
      replies.delete(key);
      replies.set(key, { revision: head.revision, hash: head.hash, reply });
      if (replies.size > MAX_ENCODED_REPLIES) replies.delete(replies.keys().next().value!);
      return reply;
    },
  });
}
