// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the notifier sends them (its OpenAPI document describes them)
/** The notifier's REST API over fetch; failures become CliErrors with the server's code and field. */
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "../exit-codes.js";

const USER_AGENT = "nexus-cli/0.1.0";
const seg = encodeURIComponent;

export class NotifierClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#baseUrl = options.baseUrl;
    this.#token = options.token;
  }

  routing = (version?: number) =>
    this.#call("GET", version ? `/v1/routing/versions/${version}` : "/v1/routing");
  routingHistory = (limit: number) => this.#call("GET", `/v1/routing/versions?limit=${limit}`);
  applyRouting = (config: unknown, ifMatch?: number) =>
    this.#call("PUT", "/v1/routing", config, ifMatch === undefined ? {} : { "if-match": `"${ifMatch}"` });
  rollback = (version: number, comment?: string) =>
    this.#call("POST", `/v1/routing/versions/${version}/rollback`, comment ? { comment } : {});
  receivers = () => this.#call("GET", "/v1/receivers");
  putReceiver = (name: string, receiver: unknown) =>
    this.#call("PUT", `/v1/receivers/${seg(name)}`, receiver);
  deleteReceiver = (name: string) => this.#call("DELETE", `/v1/receivers/${seg(name)}`);
  silences = (expired: boolean) => this.#call("GET", `/v1/silences?expired=${expired}`);
  addSilence = (body: unknown) => this.#call("POST", "/v1/silences", body);
  expireSilence = (id: string, comment?: string) =>
    this.#call("DELETE", `/v1/silences/${seg(id)}${qs({ comment })}`);
  editSilence = (id: string, body: unknown) => this.#call("PATCH", `/v1/silences/${seg(id)}`, body);
  silenceVersions = (query: Record<string, string | undefined>) =>
    this.#call("GET", `/v1/silences/versions${qs(query)}`);
  silenceVersion = (version: number) => this.#call("GET", `/v1/silences/versions/${version}`);
  alerts = (query: Record<string, string | undefined>) => this.#call("GET", `/v1/alerts${qs(query)}`);
  alert = (fingerprint: string) => this.#call("GET", `/v1/alerts/${seg(fingerprint)}`);
  ack = (fingerprint: string, comment: string) =>
    this.#call("POST", `/v1/alerts/${seg(fingerprint)}/ack`, { comment });
  deliveries = (query: Record<string, string | undefined>) => this.#call("GET", `/v1/deliveries${qs(query)}`);
  resend = (id: string) => this.#call("POST", `/v1/deliveries/${seg(id)}/resend`);

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
      throw new CliError(
        `cannot reach the notifier at ${this.#baseUrl} (${code ?? (err as Error).message})`,
        {
          exitCode: ExitCode.error,
          code: "unreachable",
          hint: "Check --notifier-url / NEXUS_NOTIFIER_URL and that the notifier is running.",
          cause: err,
        },
      );
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
    if (json === undefined) {
      throw new CliError(`${this.#baseUrl} answered without a JSON body; is it the Nexus notifier?`, {
        exitCode: ExitCode.error,
        code: "unexpected_response",
      });
    }
    return json;
  }
}

function qs(query: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}
