/**
 * The registry's REST API over Node's fetch. Every failure becomes a CliError with its exit code:
 * HTTP errors keep the server's code, field and request id; network failures say what happened.
 * The token goes in the Authorization header only and is never part of a message.
 */

import { parseRetryAfter } from "./access-errors-fns.js";
import {
  type ApiToken,
  ApiTokenSpec,
  type AuditFilter,
  type AuditPage,
  AuditPageSpec,
  type CreatedToken,
  CreatedTokenSpec,
  type CreateTokenInput,
  type TokenList,
  TokenListSpec,
  type WhoAmI,
  WhoAmISpec,
} from "./access-types.js";
import {
  type ApiError,
  ApiErrorBodySpec,
  type Comparison,
  ComparisonSpec,
  type CreateNamespaceInput,
  type History,
  HistorySpec,
  type Layer,
  LayerSpec,
  type Namespace,
  type NamespacePage,
  NamespacePageSpec,
  NamespaceSpec,
  PendingChangeSpec,
  type ReadableDiff,
  ReadableDiffSpec,
  type Resolved,
  ResolvedSpec,
  type Revision,
  RevisionSpec,
  type Schema,
  SchemaSpec,
  type WriteOutcome,
  WriteResultSpec,
} from "./api-types.js";
import { CliError, ExitCode, errorFromResponse, type ResponseContext } from "./exit-codes.js";
import { mismatch, type Spec } from "./shape-fns.js";
import { sendWithBody } from "./upload.js";

export const USER_AGENT = "nexus-cli/0.1.0";

export interface ApiClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Where the token came from, in words, for messages about it (never the token itself). */
  tokenSource?: string | undefined;
  timeoutMs?: number;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
  /** Statuses that are not errors besides 2xx (e.g. 304). */
  allow?: number[];
  signal?: AbortSignal;
  /** The timeout covers the response headers only; the caller reads the body at its own pace. */
  stream?: boolean;
}

export interface WriteOptions {
  message?: string | undefined;
  /** The layer revision the change is based on; the registry refuses it (409) if it moved on. */
  ifMatch?: number | undefined;
}

export type ResolvedRead = { notModified: true } | { notModified: false; resolved: Resolved; etag: string };

const seg = encodeURIComponent;

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #tokenSource: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.#token = options.token;
    this.#tokenSource = options.tokenSource;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  // --- platform -------------------------------------------------------------------------------

  async livez(): Promise<void> {
    await this.#send("GET", "/livez");
  }

  /** The registry's OpenAPI document, or null when it does not publish one. */
  async openApi(): Promise<Record<string, unknown> | null> {
    const res = await this.#send("GET", "/docs/json", { allow: [404] });
    return res.status === 404 ? null : ((await readJson(res, this.baseUrl)) as Record<string, unknown>);
  }

  // --- namespaces -----------------------------------------------------------------------------

  async listNamespaces(): Promise<Namespace[]> {
    const items: Namespace[] = [];
    let after: string | undefined;
    do {
      const page = await this.#json<NamespacePage>(NamespacePageSpec, "GET", "/v1/namespaces", {
        query: { limit: 500, after },
      });
      items.push(...page.items);
      after = page.next ?? undefined;
    } while (after !== undefined);
    return items;
  }

  getNamespace(ns: string) {
    return this.#json<Namespace>(NamespaceSpec, "GET", `/v1/namespaces/${seg(ns)}`);
  }

  createNamespace(input: CreateNamespaceInput) {
    return this.#json<Namespace>(NamespaceSpec, "POST", "/v1/namespaces", {
      body: JSON.stringify(input),
      contentType: "application/json",
    });
  }

  // --- layers and revisions -------------------------------------------------------------------

  getLayer(ns: string, layer: string) {
    return this.#json<Layer>(LayerSpec, "GET", `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}`);
  }

  putLayer(ns: string, layer: string, body: string, contentType: string, options: WriteOptions = {}) {
    return this.#write("PUT", `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}`, {
      body,
      contentType,
      query: { message: options.message },
      headers: { "if-match": ifMatch(options.ifMatch) },
    });
  }

  history(ns: string, layer: string, query: { limit?: number | undefined; before?: number | undefined }) {
    return this.#json<History>(
      HistorySpec,
      "GET",
      `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}/revisions`,
      { query },
    );
  }

  getRevision(ns: string, layer: string, revision: number) {
    return this.#json<Revision>(
      RevisionSpec,
      "GET",
      `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}/revisions/${revision}`,
    );
  }

  compare(ns: string, from: string, to: string) {
    return this.#json<Comparison>(ComparisonSpec, "GET", `/v1/namespaces/${seg(ns)}/compare`, {
      query: { from, to },
    });
  }

  diff(ns: string, layer: string, from: number, to: number) {
    return this.#json<ReadableDiff>(
      ReadableDiffSpec,
      "GET",
      `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}/diff`,
      {
        query: { from, to },
      },
    );
  }

  rollback(ns: string, layer: string, revision: number, options: WriteOptions = {}) {
    return this.#write("POST", `/v1/namespaces/${seg(ns)}/layers/${seg(layer)}/rollback`, {
      body: JSON.stringify({ revision, ...(options.message ? { message: options.message } : {}) }),
      contentType: "application/json",
      headers: { "if-match": ifMatch(options.ifMatch) },
    });
  }

  // --- resolved configuration -----------------------------------------------------------------

  async getResolved(
    ns: string,
    env: string,
    options: { explain?: boolean; revision?: number; ifNoneMatch?: string; signal?: AbortSignal } = {},
  ): Promise<ResolvedRead> {
    const res = await this.#send("GET", `/v1/namespaces/${seg(ns)}/environments/${seg(env)}/resolved`, {
      query: { explain: options.explain ? "true" : undefined, revision: options.revision },
      headers: { "if-none-match": options.ifNoneMatch },
      allow: [304],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (res.status === 304) {
      await res.body?.cancel();
      return { notModified: true };
    }
    const resolved = parseBody<Resolved>(ResolvedSpec, await readJson(res, this.baseUrl), this.baseUrl);
    return { notModified: false, resolved, etag: res.headers.get("etag") ?? `"${resolved.hash}"` };
  }

  // --- schemas --------------------------------------------------------------------------------

  getSchema(ns: string) {
    return this.#json<Schema>(SchemaSpec, "GET", `/v1/namespaces/${seg(ns)}/schema`);
  }

  putSchema(ns: string, body: string, contentType: string) {
    return this.#json<Schema>(SchemaSpec, "PUT", `/v1/namespaces/${seg(ns)}/schema`, { body, contentType });
  }

  // --- access control -------------------------------------------------------------------------

  whoami() {
    return this.#json<WhoAmI>(WhoAmISpec, "GET", "/v1/whoami");
  }

  createToken(input: CreateTokenInput) {
    return this.#json<CreatedToken>(CreatedTokenSpec, "POST", "/v1/tokens", {
      body: JSON.stringify(input),
      contentType: "application/json",
    });
  }

  async listTokens(includeRevoked: boolean): Promise<ApiToken[]> {
    const list = await this.#json<TokenList>(TokenListSpec, "GET", "/v1/tokens", {
      query: { includeRevoked },
    });
    return list.tokens;
  }

  getToken(id: string) {
    return this.#json<ApiToken>(ApiTokenSpec, "GET", `/v1/tokens/${seg(id)}`);
  }

  revokeToken(id: string) {
    return this.#json<ApiToken>(ApiTokenSpec, "DELETE", `/v1/tokens/${seg(id)}`);
  }

  audit(filter: AuditFilter, limit: number) {
    return this.#json<AuditPage>(AuditPageSpec, "GET", "/v1/audit", { query: { ...filter, limit } });
  }

  /**
   * The audit export as it arrives (JSON lines, in chunks). Fails when the registry sends
   * nothing for `idleMs`, or when the connection breaks part-way.
   */
  async *auditExport(filter: AuditFilter, idleMs = 60_000): AsyncGenerator<Uint8Array> {
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), idleMs);
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleMs);
    };
    try {
      const res = await this.#send("GET", "/v1/audit/export", {
        query: { ...filter },
        headers: { accept: "application/x-ndjson" },
        signal: idle.signal,
        stream: true,
      });
      if (!res.body) return;
      rearm();
      for await (const chunk of res.body) {
        rearm();
        yield chunk;
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      const reason = idle.signal.aborted
        ? `nothing arrived for ${Math.round(idleMs / 1000)} s`
        : ((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      throw new CliError(`the audit export from ${this.baseUrl} broke off (${reason})`, {
        exitCode: ExitCode.error,
        code: "export_interrupted",
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  // --- plumbing -------------------------------------------------------------------------------

  async #json<T>(spec: Spec, method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, options);
    return parseBody<T>(spec, await readJson(res, this.baseUrl), this.baseUrl);
  }

  /** A layer write: 200 with the new revision, or 202 with the change request it opened instead. */
  async #write(method: string, path: string, options: RequestOptions): Promise<WriteOutcome> {
    const res = await this.#send(method, path, options);
    const body = await readJson(res, this.baseUrl);
    return res.status === 202
      ? { pending: parseBody(PendingChangeSpec, body, this.baseUrl) }
      : { written: parseBody(WriteResultSpec, body, this.baseUrl) };
  }

  async #send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json", "user-agent": USER_AGENT };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (options.contentType) headers["content-type"] = options.contentType;
    for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k] = v;

    // A stream (the audit export) may take as long as it needs once the headers arrived: its
    // caller watches for silence instead. Everything else must be done within the timeout.
    const headersOnly = options.stream ? new AbortController() : undefined;
    const timer = headersOnly
      ? setTimeout(
          () => headersOnly.abort(new DOMException("the registry took too long", "TimeoutError")),
          this.#timeoutMs,
        )
      : undefined;
    const timeout = headersOnly?.signal ?? AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    try {
      res =
        options.body === undefined
          ? await fetch(url, { method, headers, signal })
          : await sendWithBody(url, { method, headers, signal, body: options.body });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw networkError(err, this.baseUrl, this.#timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (res.ok || options.allow?.includes(res.status)) return res;
    throw await responseError(res, { tokenSent: Boolean(this.#token), tokenSource: this.#tokenSource });
  }
}

const ifMatch = (revision: number | undefined) => (revision === undefined ? undefined : `"${revision}"`);

async function readJson(res: Response, baseUrl: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw unexpected(baseUrl, `a body that is not JSON (HTTP ${res.status})`);
  }
}

function parseBody<T>(spec: Spec, value: unknown, baseUrl: string): T {
  const problem = mismatch(value, spec);
  if (problem) throw unexpected(baseUrl, `an unexpected body (${problem})`);
  return value as T;
}

const unexpected = (baseUrl: string, what: string) =>
  new CliError(`${baseUrl} answered with ${what}; is it a Nexus registry?`, {
    exitCode: ExitCode.error,
    code: "unexpected_response",
  });

async function responseError(res: Response, context: ResponseContext): Promise<CliError> {
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    body = undefined;
  }
  const error = mismatch(body, ApiErrorBodySpec) ? undefined : (body as { error: ApiError }).error;
  return errorFromResponse(res.status, res.statusText, error, {
    ...context,
    retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
  });
}

function networkError(err: unknown, baseUrl: string, timeoutMs: number): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  let reason: string;
  if (e.name === "TimeoutError") reason = `no answer within ${Math.round(timeoutMs / 1000)} s`;
  else if (e.cause?.code === "ECONNREFUSED") reason = "connection refused";
  else if (e.cause?.code === "ENOTFOUND" || e.cause?.code === "EAI_AGAIN") reason = "host not found";
  else if (e.cause?.code === "ECONNRESET") reason = "connection reset";
  else reason = e.cause?.code ?? e.cause?.message ?? e.message;
  return new CliError(`cannot reach the registry at ${baseUrl} (${reason})`, {
    exitCode: ExitCode.error,
    code: "unreachable",
    hint: "Check the URL (nexus login, --url or NEXUS_URL) and that the registry is running.",
    cause: err,
  });
}
