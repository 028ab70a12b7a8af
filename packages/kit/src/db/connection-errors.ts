/**
 * Failures that mean Postgres could not be reached or dropped the connection, as opposed to a
 * statement it refused: a socket error, pg's own connection messages, or a SQLSTATE of class 08
 * (connection exception), 57P01–57P03 (shutting down, starting up) or 53300 (too many connections).
 */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|Connection closed|the database system is (starting up|shutting down)/i;

export function isConnectionFailure(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === "string" && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith("08")))
    return true;
  if (typeof message === "string" && MESSAGES.test(message)) return true;
  // Node's AggregateError when every address of a host refused (IPv4 and IPv6).
  return Array.isArray(errors) && errors.some(isConnectionFailure);
}
