import { AppError, ServiceUnavailableError } from "@nexus/kit";
import { request } from "undici";

export interface RegistryAnswer {
  status: number;
  body: unknown;
}

/**
 * The registry's API, called with the dashboard user's own token: the registry applies its access
 * rules, secret redaction and change-request gate to them as to any client. Its refusals come back
 * as the same errors (status, code, field) under the monitor's request id; no answer is a 503.
 */
export function createRegistryClient(options: { baseUrl: string | undefined; timeoutMs?: number }) {
  const timeout = options.timeoutMs ?? 5_000;
  return {
    configured: () => options.baseUrl !== undefined,
    async call(
      method: "GET" | "POST",
      path: string,
      token: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<RegistryAnswer> {
      if (!options.baseUrl)
        throw new ServiceUnavailableError(
          "registry_not_configured",
          "The monitor has no REGISTRY_URL: revisions cannot be shown here.",
        );
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(new URL(path, options.baseUrl), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (err) {
        throw new ServiceUnavailableError("registry_unavailable", "The config-registry did not answer.", {
          cause: err,
        });
      }
      const text = await res.body.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.statusCode < 400) return { status: res.statusCode, body: json };
      const error = (
        json as { error?: { code?: string; message?: string; field?: string; details?: unknown } }
      )?.error;
      if (res.statusCode >= 500 || !error?.code)
        throw new ServiceUnavailableError(
          "registry_unavailable",
          `The config-registry answered ${res.statusCode}${error?.message ? `: ${error.message}` : ""}.`,
        );
      throw new AppError(res.statusCode, error.code, error.message ?? `registry answered ${res.statusCode}`, {
        field: error.field,
        details: error.details,
      });
    },
  };
}
export type RegistryClient = ReturnType<typeof createRegistryClient>;
