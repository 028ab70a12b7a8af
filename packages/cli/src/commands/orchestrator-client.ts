// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the orchestrator sends them (its OpenAPI document describes them)
/** The orchestrator's REST API over fetch; failures become CliErrors with the server's code and field. */
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "../exit-codes.js";

const USER_AGENT = "nexus-cli/0.1.0";
const seg = encodeURIComponent;

export class OrchestratorClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#baseUrl = options.baseUrl;
    this.#token = options.token;
  }

  pipelines = () => this.#call("GET", "/v1/pipelines");
  pipeline = (name: string) => this.#call("GET", `/v1/pipelines/${seg(name)}`);
  versions = (name: string) => this.#call("GET", `/v1/pipelines/${seg(name)}/versions`);
  /** Sent as YAML text, so the server's errors name the field (and the line of a syntax error). */
  createPipeline = (yaml: string) => this.#call("POST", "/v1/pipelines", yaml);
  replacePipeline = (name: string, yaml: string) => this.#call("PUT", `/v1/pipelines/${seg(name)}`, yaml);
  deletePipeline = (name: string) => this.#call("DELETE", `/v1/pipelines/${seg(name)}`);
  startRun = (name: string, sourceRevision?: number) =>
    this.#call("POST", `/v1/pipelines/${seg(name)}/runs`, sourceRevision ? { sourceRevision } : {});
  runs = (query: Record<string, string | undefined>) => this.#call("GET", `/v1/runs${qs(query)}`);
  run = (id: string) => this.#call("GET", `/v1/runs/${seg(id)}`);
  approve = (id: string, comment: string) => this.#call("POST", `/v1/runs/${seg(id)}/approve`, { comment });
  reject = (id: string, comment: string) => this.#call("POST", `/v1/runs/${seg(id)}/reject`, { comment });
  cancel = (id: string) => this.#call("POST", `/v1/runs/${seg(id)}/cancel`);

  async #call(method: string, path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": USER_AGENT };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined)
      headers["content-type"] = typeof body === "string" ? "application/yaml" : "application/json";
    let res: Response;
    try {
      res = await fetch(this.#baseUrl + path, {
        method,
        headers,
        signal: AbortSignal.timeout(30_000),
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      throw new CliError(
        `cannot reach the orchestrator at ${this.#baseUrl} (${code ?? (err as Error).message})`,
        {
          exitCode: ExitCode.error,
          code: "unreachable",
          hint: "Check --orchestrator-url / NEXUS_ORCHESTRATOR_URL and that the orchestrator is running.",
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
    if (res.status === 204) return null;
    if (json === undefined) {
      throw new CliError(`${this.#baseUrl} answered without a JSON body; is it the Nexus orchestrator?`, {
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
