// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the monitor sends them (its OpenAPI document describes them)
/** The monitor's REST API over fetch; failures become CliErrors with the server's code and field. */
import { type ServiceCall, serviceCaller } from "../service-client.js";

export class MonitorClient {
  readonly #call: ServiceCall;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#call = serviceCaller({
      ...options,
      name: "the monitor",
      urlSetting: "--monitor-url / NEXUS_MONITOR_URL",
    });
  }

  services = () => this.#call("GET", "/v1/services");
  timeline = (ns: string, revision: number) =>
    this.#call("GET", `/v1/namespaces/${encodeURIComponent(ns)}/revisions/${revision}/timeline`);
  alerts = (status: string) => this.#call("GET", `/v1/alerts?status=${encodeURIComponent(status)}`);
  rules = (version?: number) =>
    this.#call("GET", version === undefined ? "/v1/alert-rules" : `/v1/alert-rules/versions/${version}`);
  rulesHistory = (limit: number) => this.#call("GET", `/v1/alert-rules/versions?limit=${limit}`);
  validateRules = (body: unknown) => this.#call("POST", "/v1/alert-rules/validate", body);
  applyRules = (body: unknown, ifMatch?: number) =>
    this.#call("PUT", "/v1/alert-rules", body, ifMatch === undefined ? {} : { "if-match": `"${ifMatch}"` });
}
