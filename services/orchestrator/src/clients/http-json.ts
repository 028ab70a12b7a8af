import { AppError, ServiceUnavailableError } from "@nexus/kit";

export interface HttpJsonClient {
  /** The parsed body; null on 404 when `allow404`. */
  get<T>(path: string, opts?: { allow404?: boolean }): Promise<T | null>;
  /** POST a JSON body (none when absent); the parsed answer. */
  post<T>(path: string, body?: unknown): Promise<T>;
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
  async function send<T>(
    method: "GET" | "POST",
    path: string,
    o: { allow404?: boolean; body?: unknown } = {},
  ): Promise<T | null> {
    if (!opts.token)
      throw new ServiceUnavailableError(
        `${opts.name}_unavailable`,
        `no API token for the ${opts.name} (set ORCHESTRATOR_API_TOKEN)`,
      );
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.token}`,
          accept: "application/json",
          ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      throw new ServiceUnavailableError(
        `${opts.name}_unavailable`,
        `the ${opts.name} did not answer ${method} ${path}`,
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
        `the ${opts.name} answered ${res.status} to ${method} ${path}`,
      );
    if (res.status >= 400) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {}
      throw new AppError(
        422,
        `${opts.name}_refused`,
        `the ${opts.name} refused ${method} ${path} (${res.status}): ${message}`,
      );
    }
    return JSON.parse(text) as T;
  }

  return {
    get: <T>(path: string, o: { allow404?: boolean } = {}) => send<T>("GET", path, o),
    post: async <T>(path: string, body?: unknown) => (await send<T>("POST", path, { body })) as T,
  };
}
