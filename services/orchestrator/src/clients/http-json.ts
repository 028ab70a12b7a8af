import { AppError, ServiceUnavailableError } from "@nexus/kit";

export interface HttpJsonClient {
  /** The parsed body; null on 404 when `allow404`. */
  get<T>(path: string, opts?: { allow404?: boolean }): Promise<T | null>;
}

/**
 * JSON over HTTP to another Nexus service with the orchestrator's API token. The service being
 * away (no connection, timeout, 5xx, 429) is a 503 naming it, which a step waits out; a 4xx is
 * that service refusing the request, which fails the step with its message.
 */
export function createHttpJsonClient(opts: {
  name: string;
  baseUrl: string;
  token: string | undefined;
  timeoutMs: number;
}): HttpJsonClient {
  const base = opts.baseUrl.replace(/\/+$/, "");
  return {
    async get<T>(path: string, o: { allow404?: boolean } = {}): Promise<T | null> {
      if (!opts.token)
        throw new ServiceUnavailableError(
          `${opts.name}_unavailable`,
          `no API token for the ${opts.name} (set ORCHESTRATOR_API_TOKEN)`,
        );
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          headers: { authorization: `Bearer ${opts.token}`, accept: "application/json" },
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        throw new ServiceUnavailableError(
          `${opts.name}_unavailable`,
          `the ${opts.name} did not answer GET ${path}`,
          {
            cause: err,
          },
        );
      }
      if (res.status === 404 && o.allow404) {
        await res.body?.cancel();
        return null;
      }
      const text = await res.text();
      if (res.status >= 500 || res.status === 429)
        throw new ServiceUnavailableError(
          `${opts.name}_unavailable`,
          `the ${opts.name} answered ${res.status} to GET ${path}`,
        );
      if (res.status >= 400) {
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
        } catch {}
        throw new AppError(
          422,
          `${opts.name}_refused`,
          `the ${opts.name} refused GET ${path} (${res.status}): ${message}`,
        );
      }
      return JSON.parse(text) as T;
    },
  };
}
