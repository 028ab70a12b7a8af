import { ApiErrorBody, ResolvedConfigBody } from "@nexus/contracts";
import { NexusConfigError, reasonOf, registryError } from "./errors.js";
import type { ReadResult, RegistryReader } from "./registry-reader.js";
import type { Target } from "./subjects.js";

export interface HttpReaderOptions extends Target {
  /** Base URL of the config-registry, e.g. `http://127.0.0.1:4100`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  timeoutMs: number;
  /** Sent as `User-Agent`, so the registry's logs say who reads. */
  userAgent: string;
}

/** The path of the resolved read of one (namespace, environment). */
export function resolvedUrl(base: string, target: Target): string {
  const root = base.replace(/\/+$/, "");
  return `${root}/v1/namespaces/${encodeURIComponent(target.namespace)}/environments/${encodeURIComponent(target.environment)}/resolved`;
}

/** `"abc"` or `W/"abc"` → `abc`. */
function unquoteEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  const m = /^(?:W\/)?"([^"]*)"$/.exec(value.trim());
  return m ? m[1] : undefined;
}

/** GET …/resolved with `If-None-Match`, over Node's fetch (undici). */
export function createHttpReader(options: HttpReaderOptions): RegistryReader {
  const url = resolvedUrl(options.url, options);
  const baseHeaders: Record<string, string> = { accept: "application/json", "user-agent": options.userAgent };
  if (options.token) baseHeaders.authorization = `Bearer ${options.token}`;

  return {
    transport: "http",
    async read(ifNoneMatch) {
      const headers = { ...baseHeaders };
      if (ifNoneMatch) headers["if-none-match"] = `"${ifNoneMatch}"`;
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        const timedOut = (err as Error)?.name === "TimeoutError";
        const why = timedOut
          ? `no answer within ${options.timeoutMs} ms`
          : reasonOf((err as Error)?.cause ?? err);
        throw new NexusConfigError(
          "unavailable",
          `config-registry at ${options.url} is unreachable: ${why}`,
          {
            cause: err,
          },
        );
      }
      const revisionHeader = res.headers.get("nexus-revision");
      if (res.status === 304) {
        await res.body?.cancel();
        return {
          kind: "not-modified",
          hash: unquoteEtag(res.headers.get("etag")) ?? ifNoneMatch ?? "",
          revision:
            revisionHeader !== null && /^\d+$/.test(revisionHeader) ? Number(revisionHeader) : undefined,
        } satisfies ReadResult;
      }
      const text = await res.text().catch((err: unknown) => {
        throw new NexusConfigError("unavailable", `reading the registry's answer failed: ${reasonOf(err)}`, {
          cause: err,
        });
      });
      if (!res.ok) throw errorFrom(res.status, text);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new NexusConfigError(
          "invalid_response",
          `the registry answered ${res.status} with a body that is not JSON`,
          {
            statusCode: res.status,
          },
        );
      }
      const body = ResolvedConfigBody.safeParse(json);
      if (!body.success) {
        throw new NexusConfigError(
          "invalid_response",
          "the registry's resolved document breaks the contract",
          {
            statusCode: res.status,
            details: body.error.issues,
          },
        );
      }
      return { kind: "document", document: body.data };
    },
  };
}

function errorFrom(status: number, text: string): NexusConfigError {
  let parsed: ApiErrorBody | undefined;
  try {
    const result = ApiErrorBody.safeParse(JSON.parse(text));
    if (result.success) parsed = result.data;
  } catch {
    // not a Nexus error body (a proxy's page, say); the status decides
  }
  const message = parsed
    ? `config-registry refused the read (${status} ${parsed.error.code}): ${parsed.error.message}`
    : `config-registry answered ${status}`;
  return registryError(status, parsed?.error.code, message, parsed?.error);
}
