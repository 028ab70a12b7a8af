/** The human form of identities, grants, tokens and audit entries. No I/O. */
import type { ApiToken, AuditEntry, CreatedToken, Grant, WhoAmI } from "../access-types.js";
import type { Colors } from "./output.js";
import { renderTable, shortTime } from "./table-fns.js";

/** A grant as it is written on the command line: `editor:payments-*:staging`, `admin`, `viewer:shop`. */
export function grantText(g: Grant): string {
  return g.namespaces
    .flatMap((ns) =>
      g.environments.map((env) => {
        if (env === "*") return ns === "*" ? g.role : `${g.role}:${ns}`;
        return `${g.role}:${ns}:${env}`;
      }),
    )
    .join(", ");
}

const ROLE_WORDS: Record<string, string> = {
  viewer: "read",
  editor: "read and change",
  approver: "read and approve changes to",
  "secret-reader": "read, secret values included,",
  admin: "do anything with",
};

const isPattern = (p: string) => p.includes("*") || p.includes("?");

function namespacesInWords(patterns: readonly string[]): string {
  if (patterns.includes("*")) return "every namespace";
  return patterns.map((p) => (isPattern(p) ? `namespaces matching ${p}` : `namespace ${p}`)).join(" and ");
}

function environmentsInWords(patterns: readonly string[]): string {
  if (patterns.includes("*")) return "in every environment";
  const parts = patterns.map((p) => (isPattern(p) ? `environments matching ${p}` : p));
  return `in ${parts.join(" and ")} only`;
}

/** `read and change namespaces matching payments-*, in staging only` */
export function grantInWords(g: Grant): string {
  if (g.role === "admin" && g.namespaces.includes("*") && g.environments.includes("*")) {
    return "administer everything: tokens, the audit log, every namespace in every environment";
  }
  const verb = ROLE_WORDS[g.role] ?? `act as ${g.role} on`;
  return `${verb} ${namespacesInWords(g.namespaces)}, ${environmentsInWords(g.environments)}`;
}

/** One line per grant: the grant as written, then what it allows. */
export function grantLines(grants: readonly Grant[]): string[] {
  if (grants.length === 0) return ["  nothing yet: no grants"];
  const texts = grants.map(grantText);
  const width = Math.max(...texts.map((t) => t.length));
  return grants.map((g, i) => `  ${texts[i]!.padEnd(width)}  ${grantInWords(g)}`);
}

/** Who you are (`nexus whoami`, and after `nexus login`). */
export function identityText(who: WhoAmI, url: string, colors: Colors): string {
  const how =
    who.kind === "token"
      ? `API token ${who.subject.replace(/^token:/, "")}`
      : `single sign-on (OIDC subject ${who.subject.replace(/^oidc:/, "")})`;
  return [
    `You are ${colors.bold(who.name)} at ${url}, through ${how}.`,
    `Changes you make are recorded with ${who.name} as their author.`,
    "You may:",
    ...grantLines(who.grants),
    "",
  ].join("\n");
}

const never = (iso: string | null) => (iso ? shortTime(iso) : "never");

export function tokenTable(tokens: readonly ApiToken[], colors: Colors): string {
  if (tokens.length === 0)
    return "No API tokens. Create one with `nexus token create <name> --grant <grant>`.\n";
  return renderTable(
    ["id", "name", "owner", "grants", "status", "expires", "last used"],
    tokens.map((t) => [
      t.id,
      t.name,
      t.owner,
      t.grants.map(grantText).join(", "),
      t.status,
      never(t.expiresAt),
      never(t.lastUsedAt),
    ]),
    colors,
  );
}

/** Everything about a new token except the token itself, which goes alone on stdout. */
export function createdTokenNotice(t: CreatedToken, colors: Colors): string {
  const expiry = t.expiresAt ? `expires ${shortTime(t.expiresAt)}` : "never expires";
  return [
    `Created token ${colors.bold(t.name)} (id ${t.id}), owned by ${t.owner}; it ${expiry}.`,
    "It may:",
    ...grantLines(t.grants),
    colors.bold(
      "This is the only time the token is shown: store it now. Nexus keeps only a digest of it; a lost token cannot be recovered, only revoked and replaced.",
    ),
    "",
  ].join("\n");
}

/** After `nexus token revoke`: what was revoked, or that it already was. */
export function revokedTokenLine(t: ApiToken, alreadyRevoked: boolean): string {
  const what = `token ${t.id} (${t.name}, owned by ${t.owner})`;
  if (alreadyRevoked) {
    return `The ${what} was already revoked${t.revokedAt ? ` on ${shortTime(t.revokedAt)}` : ""}${t.revokedBy ? ` by ${t.revokedBy}` : ""}; nothing changed.\n`;
  }
  return `Revoked ${what}. Every Nexus service refuses it from now on.\n`;
}

/** Why an entry was refused or failed, when the log says. */
function reasonOf(e: AuditEntry): string {
  const reason = e.details?.reason;
  return typeof reason === "string" ? reason : "";
}

export function auditTable(entries: readonly AuditEntry[], colors: Colors): string {
  if (entries.length === 0) return "No audit entries match.\n";
  return renderTable(
    ["seq", "time", "actor", "outcome", "status", "action", "resource", "reason"],
    entries.map((e) => [
      e.seq,
      shortTime(e.at),
      e.actor,
      e.outcome,
      e.statusCode ?? "",
      e.action,
      e.resource,
      reasonOf(e),
    ]),
    colors,
  );
}
