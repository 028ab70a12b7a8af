// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the notifier sends them (its OpenAPI document describes them)
/** The notifier's REST API over fetch; failures become CliErrors with the server's code and field. */
import { queryString as qs, type ServiceCall, serviceCaller } from "../service-client.js";

const seg = encodeURIComponent;

export class NotifierClient {
  readonly #call: ServiceCall;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#call = serviceCaller({
      ...options,
      name: "the notifier",
      urlSetting: "--notifier-url / NEXUS_NOTIFIER_URL",
    });
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
}
