import { AppError, ServiceUnavailableError } from "@nexus/kit";
import { request } from "undici";

export interface RelayAnswer {
  status: number;
  body: unknown;
}

/** Who a relay talks to: the error codes and the words its 503s use. */
export interface RelayTarget {
  /** `registry` → codes `registry_unavailable`, `registry_not_configured`. */
  code: string;
  /** "The config-registry", "The orchestrator": the subject of its 503 messages. */
  label: string;
  /** Said when the URL is unset, e.g. "The monitor has no REGISTRY_URL: revisions cannot be shown here." */
  notConfigured: string;
}

/**
 * Another service's API, called with the dashboard user's own token: that service applies its
 * access rules (and the registry its secret redaction and change-request gate) to them as to any
 * client. Its refusals come back as the same errors (status, code, field) under the monitor's
 * request id; no answer, or a 5xx, is a 503 naming it.
 */
export function createRelayClient(
  target: RelayTarget,
  options: { baseUrl: string | undefined; timeoutMs?: number },
) {
  const timeout = options.timeoutMs ?? 5_000;
  const unavailable = `${target.code}_unavailable`;
  return {
    configured: () => options.baseUrl !== undefined,
    async call(
      method: "GET" | "POST",
      path: string,
      token: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<RelayAnswer> {
      if (!options.baseUrl)
        throw new ServiceUnavailableError(`${target.code}_not_configured`, target.notConfigured);
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
        throw new ServiceUnavailableError(unavailable, `${target.label} did not answer.`, {
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
          unavailable,
          `${target.label} answered ${res.statusCode}${error?.message ? `: ${error.message}` : ""}.`,
        );
      throw new AppError(
        res.statusCode,
        error.code,
        error.message ?? `${target.label} answered ${res.statusCode}`,
        {
          field: error.field,
          details: error.details,
        },
      );
    },
  };
}
export type RelayClient = ReturnType<typeof createRelayClient>;

/** The registry: revisions, diffs, rollback and environment comparison, as the dashboard user. */
export const createRegistryClient = (options: { baseUrl: string | undefined; timeoutMs?: number }) =>
  createRelayClient(
    {
      code: "registry",
      label: "The config-registry",
      notConfigured: "The monitor has no REGISTRY_URL: revisions and comparisons cannot be shown here.",
    },
    options,
  );
export type RegistryClient = RelayClient;

/** The orchestrator: runs in progress, approve and reject, as the dashboard user. */
export const createOrchestratorClient = (options: { baseUrl: string | undefined; timeoutMs?: number }) =>
  createRelayClient(
    {
      code: "orchestrator",
      label: "The orchestrator",
      notConfigured: "The monitor has no ORCHESTRATOR_URL: pipeline runs cannot be shown here.",
    },
    options,
  );
