// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the services send them (their OpenAPI documents describe them)
/**
 * The JSON-over-HTTP call every service client of the CLI makes (notifier, monitor, backup, …):
 * token, user agent, a 30 s limit; an unreachable service and an error answer become CliErrors
 * with the server's code and field, in the service's own name.
 */
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "./exit-codes.js";

const USER_AGENT = "nexus-cli/0.1.0";

export interface ServiceCallerOptions {
  baseUrl: string;
  token: string | undefined;
  /** How messages name it: "the monitor", "the backup service". */
  name: string;
  /** Where its address is set, for the hint: "--monitor-url / NEXUS_MONITOR_URL". */
  urlSetting: string;
}

export type ServiceCall = (
  method: string,
  path: string,
  body?: unknown,
  extraHeaders?: Record<string, string>,
) => Promise<any>;

export function serviceCaller(options: ServiceCallerOptions): ServiceCall {
  const { baseUrl, token, name } = options;
  return async (method, path, body, extraHeaders = {}) => {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...extraHeaders,
    };
    if (token) headers.authorization = `Bearer ${token}`;
    // A string is a YAML document (its errors then name the line); anything else goes as JSON.
    if (body !== undefined)
      headers["content-type"] = typeof body === "string" ? "application/yaml" : "application/json";
    let res: Response;
    try {
      res = await fetch(baseUrl + path, {
        method,
        headers,
        signal: AbortSignal.timeout(30_000),
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      throw new CliError(`cannot reach ${name} at ${baseUrl} (${code ?? (err as Error).message})`, {
        exitCode: ExitCode.error,
        code: "unreachable",
        hint: `Check ${options.urlSetting} and that ${name} is running.`,
        cause: err,
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok)
      throw errorFromResponse(
        res.status,
        res.statusText,
        (json as { error?: ServerErrorBody } | undefined)?.error,
      );
    if (json === undefined)
      throw new CliError(`${baseUrl} answered without a JSON body; is it ${name} of Nexus?`, {
        exitCode: ExitCode.error,
        code: "unexpected_response",
      });
    return json;
  };
}

/** `?a=1&b=2` from the defined entries; "" when none. */
export function queryString(query: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}
