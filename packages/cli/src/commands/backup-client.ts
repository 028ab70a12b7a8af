// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the backup service sends them (its OpenAPI document describes them)
/** The backup service's REST API over fetch; failures become CliErrors with the server's code and field. */
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "../exit-codes.js";

const USER_AGENT = "nexus-cli/0.1.0";
const seg = encodeURIComponent;

export class BackupClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#baseUrl = options.baseUrl;
    this.#token = options.token;
  }

  list = (limit: number) => this.#call("GET", `/v1/backups?limit=${limit}`);
  get = (id: string) => this.#call("GET", `/v1/backups/${seg(id)}`);
  run = (kind: "full" | "incremental") => this.#call("POST", "/v1/backups", { kind });
  verify = (id: string) => this.#call("POST", `/v1/backups/${seg(id)}/verify`);
  verifications = (id: string) => this.#call("GET", `/v1/backups/${seg(id)}/verifications`);
  restore = (id: string, dryRun: boolean) =>
    this.#call("POST", `/v1/backups/${seg(id)}/restore`, { scope: "system", dryRun });
  restoreNamespace = (id: string, namespace: string, at: string | undefined, dryRun: boolean) =>
    this.#call("POST", `/v1/backups/${seg(id)}/restore`, {
      scope: "namespace",
      namespace,
      ...(at ? { at } : {}),
      dryRun,
    });
  getRestore = (id: string) => this.#call("GET", `/v1/restores/${seg(id)}`);

  async #call(method: string, path: string, body?: unknown): Promise<any> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": USER_AGENT };
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
        `cannot reach the backup service at ${this.#baseUrl} (${code ?? (err as Error).message})`,
        {
          exitCode: ExitCode.error,
          code: "unreachable",
          hint: "Check --backup-url / NEXUS_BACKUP_URL and that the backup service is running.",
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
    if (json === undefined)
      throw new CliError(`${this.#baseUrl} answered without a JSON body; is it the Nexus backup service?`, {
        exitCode: ExitCode.error,
        code: "unexpected_response",
      });
    return json;
  }
}
