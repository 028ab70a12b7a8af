// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the orchestrator sends them (its OpenAPI document describes them)
/** The orchestrator's REST API over fetch; failures become CliErrors with the server's code and field. */
import { queryString as qs, type ServiceCall, serviceCaller } from "../service-client.js";

const seg = encodeURIComponent;

export class OrchestratorClient {
  readonly #call: ServiceCall;

  constructor(options: { baseUrl: string; token: string | undefined }) {
    this.#call = serviceCaller({
      ...options,
      name: "the orchestrator",
      urlSetting: "--orchestrator-url / NEXUS_ORCHESTRATOR_URL",
    });
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
  rollouts = (query: Record<string, string | undefined>) => this.#call("GET", `/v1/rollouts${qs(query)}`);
  rollout = (id: string) => this.#call("GET", `/v1/rollouts/${seg(id)}`);
  cancel = (id: string) => this.#call("POST", `/v1/runs/${seg(id)}/cancel`);
  jobs = () => this.#call("GET", "/v1/jobs");
  startJob = (name: string) => this.#call("POST", `/v1/jobs/${seg(name)}/runs`);
  jobRun = (id: string) => this.#call("GET", `/v1/job-runs/${seg(id)}`);
}
