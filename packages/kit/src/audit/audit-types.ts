/** One line of the append-only audit log. */
export interface AuditEntry {
  /** `token:<id>`, `oidc:<sub>`, or `anonymous` for a caller that did not authenticate. */
  actor: string;
  /** What was attempted, e.g. `PUT /v1/namespaces/:ns/layers/:layer` or `secret.read`. */
  action: string;
  /** What it was attempted on: the request path, or a resource name. */
  resource: string;
  outcome: "allowed" | "denied" | "failed";
  statusCode?: number | undefined;
  requestId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** Extra facts (ids, the denial reason). Never secret values or credentials. */
  details?: Record<string, unknown> | undefined;
}

/** Records without blocking the request; the Postgres sink batches and flushes. */
export interface AuditSink {
  record(entry: AuditEntry): void;
}
