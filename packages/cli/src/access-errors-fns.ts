/**
 * Refusals by access control (401, 403, 429) in plain words: which problem the token has, which
 * role is missing and the grant that would give it, how long to wait. No I/O.
 */

export interface AccessFailure {
  message: string;
  hint: string | undefined;
}

export interface AccessContext {
  retryAfterSeconds?: number | undefined;
  /** Whether the request carried a token at all. */
  tokenSent?: boolean | undefined;
  /** Where the token came from, in words (`NEXUS_TOKEN`), when known. */
  tokenSource?: string | undefined;
}

const NEW_TOKEN =
  "Ask an admin for a new token (`nexus token create <name> --grant <grant>`), then run `nexus login <url> --token-stdin`.";

/** The CLI's message and hint for an access refusal, or undefined for any other status. */
export function accessFailure(
  status: number,
  code: string,
  serverMessage: string,
  context: AccessContext = {},
): AccessFailure | undefined {
  if (status === 401) return unauthorized(code, serverMessage, context);
  if (status === 403) return forbidden(serverMessage);
  if (status === 429) return tooManyRequests(code, serverMessage, context.retryAfterSeconds);
  return undefined;
}

function unauthorized(code: string, serverMessage: string, context: AccessContext): AccessFailure {
  const source = context.tokenSource;
  const yours = source ? `your token (from ${source})` : "your token";
  switch (code) {
    case "unauthenticated":
      return context.tokenSent
        ? {
            message: `the registry received no token, although ${yours} was sent`,
            hint: "A proxy between you and the registry may drop the Authorization header; check it.",
          }
        : {
            message: "the registry needs a token and none was given",
            hint: "Run `nexus login <url> --token-stdin`, or pass --token / set NEXUS_TOKEN.",
          };
    case "invalid_token":
      return {
        message: `the registry does not know ${yours}: it is mistyped, cut short, or from another installation`,
        hint: `Check the token you use. ${NEW_TOKEN}`,
      };
    case "token_expired":
      return { message: `${yours} has expired`, hint: NEW_TOKEN };
    case "token_revoked":
      return { message: `${yours} was revoked and will never work again`, hint: NEW_TOKEN };
    default:
      return { message: `not logged in: ${serverMessage}`, hint: NEW_TOKEN };
  }
}

const LACKS =
  /lacks the '([^']+)' role(?: for (namespace '([^']+)')?(?:, )?(environment '([^']+)')?| on every namespace)?/;

/** What a 403 message says is missing: a role, and where (absent: on every namespace). */
export function missingAccess(
  serverMessage: string,
): { role: string; namespace?: string | undefined; environment?: string | undefined } | undefined {
  const m = LACKS.exec(serverMessage);
  if (!m) return undefined;
  return { role: m[1]!, namespace: m[3], environment: m[5] };
}

/** The grant text that covers what a 403 said was missing (`editor:payments:production`). */
export function grantCovering(missing: NonNullable<ReturnType<typeof missingAccess>>): string {
  if (missing.namespace === undefined && missing.environment === undefined) return missing.role;
  const env = missing.environment === undefined ? "" : `:${missing.environment}`;
  return `${missing.role}:${missing.namespace ?? "*"}${env}`;
}

function forbidden(serverMessage: string): AccessFailure {
  const missing = missingAccess(serverMessage);
  if (!missing) {
    return { message: `not allowed: ${serverMessage}`, hint: "`nexus whoami` shows what your token may do." };
  }
  const where = [
    missing.namespace !== undefined ? `namespace ${missing.namespace}` : undefined,
    missing.environment !== undefined ? `environment ${missing.environment}` : undefined,
  ].filter(Boolean);
  const scope = where.length > 0 ? ` for ${where.join(", ")}` : " on every namespace";
  const grant = grantCovering(missing);
  return {
    message: `not allowed: your token lacks the ${missing.role} role${scope}`,
    hint: `A token with the grant ${grant} may do this (an admin creates one: nexus token create <name> --grant ${grant}); \`nexus whoami\` shows your grants.`,
  };
}

function tooManyRequests(code: string, serverMessage: string, retryAfter: number | undefined): AccessFailure {
  const wait = retryAfter ?? secondsIn(serverMessage);
  const when = wait === undefined ? "later" : `in ${wait} s`;
  if (code === "too_many_failed_logins") {
    return {
      message: `too many invalid tokens came from this address; the registry refuses it for now: retry ${when}`,
      hint: "Check that the token you send is the right one before retrying.",
    };
  }
  if (code === "rate_limited") {
    return {
      message: `your token sent more requests this minute than the registry allows: retry ${when}`,
      hint: "Spread the calls out, or give each script its own token.",
    };
  }
  return { message: `the registry is limiting requests: retry ${when}`, hint: undefined };
}

function secondsIn(message: string): number | undefined {
  const m = /in (\d+) s\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** A Retry-After header as seconds (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
