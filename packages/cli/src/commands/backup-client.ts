// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the backup service sends them (its OpenAPI document describes them)
/** The backup service's REST API over fetch; failures become CliErrors with the server's code and field. */
import { type ServiceCall, serviceCaller } from "../service-client.js";

const seg = encodeURIComponent;

export class BackupClient {
  readonly #call: ServiceCall;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#call = serviceCaller({
      ...options,
      name: "the backup service",
      urlSetting: "--backup-url / NEXUS_BACKUP_URL",
    });
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
}
