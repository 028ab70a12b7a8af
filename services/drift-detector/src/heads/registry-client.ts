import { ConfigGetReply, configGetSubject } from "@nexus/contracts";
import { AppError, type Bus } from "@nexus/kit";

export interface ResolvedDocument {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  content: Record<string, unknown>;
}

/**
 * Reads resolved documents from the config-registry over NATS (`nexus.config.cmd.get.<env>.<ns>`), under the
 * detector's own connection. Null when the namespace or environment does not exist (any more).
 */
export function createRegistryClient(deps: { bus: Pick<Bus, "requestCommand">; timeoutMs: number }) {
  return {
    async resolved(namespace: string, environment: string): Promise<ResolvedDocument | null> {
      const reply = await deps.bus.requestCommand(
        configGetSubject({ environment, namespace }),
        { schemaVersion: 1, namespace, environment },
        ConfigGetReply,
        deps.timeoutMs,
      );
      if (!reply.ok) {
        if (reply.error.statusCode === 404) return null;
        throw new AppError(
          502,
          "registry_error",
          `the registry refused to read ${namespace}/${environment}`,
          {
            details: { code: reply.error.code, message: reply.error.message },
          },
        );
      }
      if (reply.notModified) throw new AppError(502, "registry_error", "unexpected notModified reply");
      return {
        namespace: reply.namespace,
        environment: reply.environment,
        revision: reply.revision,
        hash: reply.hash,
        content: reply.content,
      };
    },
  };
}
export type RegistryClient = ReturnType<typeof createRegistryClient>;
