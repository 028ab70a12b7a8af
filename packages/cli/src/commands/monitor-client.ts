// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the monitor sends them (its OpenAPI document describes them)
/** The monitor's REST API over fetch; failures become CliErrors with the server's code and field. */
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "../exit-codes.js";

const USER_AGENT = "nexus-cli/0.1.0";

export class MonitorClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#baseUrl = options.baseUrl;
    this.#token = options.token;
  }

  services = () => this.#call("GET", "/v1/services");
  alerts = (status: string) => this.#call("GET", `/v1/alerts?status=${encodeURIComponent(status)}`);
  rules = (version?: number) =>
    this.#call("GET", version === undefined ? "/v1/alert-rules" : `/v1/alert-rules/versions/${version}`);
  rulesHistory = (limit: number) => this.#call("GET", `/v1/alert-rules/versions?limit=${limit}`);
  validateRules = (body: unknown) => this.#call("POST", "/v1/alert-rules/validate", body);
  applyRules = (body: unknown, ifMatch?: number) =>
    this.#call("PUT", "/v1/alert-rules", body, ifMatch === undefined ? {} : { "if-match": `"${ifMatch}"` });

  async #call(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<any> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...extra,
    };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.#baseUrl + path, {
        method,
        headers,
        signal: AbortSignal.timeout(30_000),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      throw new CliError(`cannot reach the monitor at ${this.#baseUrl} (${code ?? (err as Error).message})`, {
        exitCode: ExitCode.error,
        code: "unreachable",
        hint: "Check --monitor-url / NEXUS_MONITOR_URL and that the monitor is running.",
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
      throw new CliError(`${this.#baseUrl} answered without a JSON body; is it the Nexus monitor?`, {
        exitCode: ExitCode.error,
        code: "unexpected_response",
      });
    return json;
  }
}
