import { AppError, ServiceUnavailableError } from "@nexus/kit";
import { z } from "zod";

/**
 * The registry's answer to `POST /v1/namespaces/{ns}/restore` (its OpenAPI document describes
 * it); read here only as far as the backup service uses it.
 */
const RegistryRestoreResult = z.object({
  namespace: z.string(),
  label: z.string(),
  dryRun: z.boolean(),
  layers: z.array(
    z.object({
      layer: z.string(),
      changed: z.boolean(),
      revision: z.number().int(),
      operations: z.array(z.record(z.string(), z.unknown())),
    }),
  ),
});
export type RegistryRestoreResult = z.infer<typeof RegistryRestoreResult>;

const RegistryError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    details: z.unknown().optional(),
  }),
});

export interface RegistryClientConfig {
  /** The registry's base URL, e.g. http://config-registry:4100. */
  url: string;
  /** An admin API token of the registry; null: namespace restores are refused (503 naming it). */
  token: string | null;
  timeoutMs: number;
}

/**
 * The registry's restore endpoint over HTTP: it writes each layer through the registry's own
 * write path (schemas, policies, secrets, events), so the backup service never writes the
 * registry's tables for a namespace restore. Refusals keep the registry's status, code and field;
 * an unreachable or failing registry is a 503 naming it.
 */
export function createRegistryClient(config: RegistryClientConfig) {
  const unavailable = (why: string) =>
    new ServiceUnavailableError("registry_unavailable", `the config registry at ${config.url} ${why}`, {
      details: { dependency: "config-registry", url: config.url },
    });
  return {
    async restoreLayers(
      namespace: string,
      body: { label: string; layers: Record<string, unknown>; message: string; dryRun: boolean },
    ): Promise<RegistryRestoreResult> {
      if (!config.token)
        throw new ServiceUnavailableError(
          "registry_not_configured",
          "restoring a namespace goes through the config registry: set BACKUP_REGISTRY_TOKEN (an admin API token) and REGISTRY_URL",
          { details: { dependency: "config-registry" } },
        );
      let res: Response;
      try {
        res = await fetch(`${config.url}/v1/namespaces/${encodeURIComponent(namespace)}/restore`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${config.token}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code;
        throw unavailable(`cannot be reached (${code ?? (err as Error).message})`);
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) {
        const parsed = RegistryRestoreResult.safeParse(json);
        if (!parsed.success) throw unavailable("answered with something other than a restore result");
        return parsed.data;
      }
      const refusal = RegistryError.safeParse(json);
      if (res.status === 401 || res.status === 403)
        throw unavailable(
          `refused the backup service's token (${res.status}): BACKUP_REGISTRY_TOKEN must be an admin token of the registry`,
        );
      if (res.status >= 500 || !refusal.success) throw unavailable(`answered ${res.status}`);
      const e = refusal.data.error;
      throw new AppError(res.status, e.code, `the config registry refused the restore: ${e.message}`, {
        field: e.field,
        details: e.details,
      });
    },
  };
}
export type RegistryClient = ReturnType<typeof createRegistryClient>;
