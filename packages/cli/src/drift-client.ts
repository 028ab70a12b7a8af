/**
 * The drift-detector's REST API (instances, findings) over Node's fetch, with the same error
 * handling as the registry client: HTTP errors keep the server's code and field; network
 * failures say what happened. The token goes in the Authorization header only.
 */
import { ApiErrorBodySpec } from "./api-types.js";
import {
  type FindingFilter,
  type FindingList,
  FindingListSpec,
  type Instances,
  InstancesSpec,
} from "./drift-types.js";
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody } from "./exit-codes.js";
import { mismatch, type Spec } from "./shape-fns.js";

const seg = encodeURIComponent;

export class DriftClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(options: { baseUrl: string; token?: string | undefined }) {
    this.baseUrl = options.baseUrl;
    this.#token = options.token;
  }

  instances(ns: string, env: string, includeGone: boolean): Promise<Instances> {
    return this.#get(InstancesSpec, `/v1/namespaces/${seg(ns)}/environments/${seg(env)}/instances`, {
      includeGone: String(includeGone),
    });
  }

  findings(query: FindingFilter): Promise<FindingList> {
    return this.#get(FindingListSpec, "/v1/findings", query);
  }

  async #get<T>(spec: Spec, path: string, query: Record<string, string | undefined>): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new CliError(
        `cannot reach the drift-detector at ${this.baseUrl} (${e.cause?.code ?? e.message})`,
        {
          exitCode: ExitCode.error,
          code: "unreachable",
          hint: "Check --drift-url / NEXUS_DRIFT_URL and that the drift-detector is running.",
          cause: err,
        },
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const error = mismatch(body, ApiErrorBodySpec) ? undefined : (body as { error: ServerErrorBody }).error;
      throw errorFromResponse(res.status, res.statusText, error);
    }
    const problem = body === undefined ? "a body that is not JSON" : mismatch(body, spec);
    if (problem) {
      throw new CliError(
        `${this.baseUrl} answered with an unexpected body (${problem}); is it the drift-detector?`,
        {
          exitCode: ExitCode.error,
          code: "unexpected_response",
        },
      );
    }
    return body as T;
  }
}
