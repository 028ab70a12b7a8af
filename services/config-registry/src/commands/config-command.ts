import { CONFIG_SET_COMMAND, ConfigSetCommand, ConfigSetReply } from "@nexus/contracts";
import type { Bus } from "@nexus/kit";
import type { LayerService } from "../layers/layer-service.js";

/**
 * `nexus.config.cmd.set` over NATS request/reply: the same write path, validation and error
 * codes as `PUT /v1/namespaces/{ns}/layers/{layer}`, for services that publish config changes.
 */
export function serveConfigCommands(deps: {
  bus: Pick<Bus, "serveCommand">;
  layers: Pick<LayerService, "replace">;
}) {
  return deps.bus.serveCommand({
    subject: CONFIG_SET_COMMAND,
    request: ConfigSetCommand,
    reply: ConfigSetReply,
    queue: "config-registry",
    handler: async (cmd, ctx) => {
      const result = await deps.layers.replace(cmd.namespace, cmd.layer, cmd.content, {
        author: cmd.author,
        message: cmd.message ?? "",
        source: "nats",
        expectedRevision: cmd.expectedRevision,
        traceparent: ctx.traceparent,
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
