/** The human form of each registry resource. No I/O. */
import type {
  Namespace,
  PendingChange,
  Provenance,
  Resolved,
  RevisionSummary,
  WriteResult,
} from "../api-types.js";
import { formatValue } from "./diff-fns.js";
import type { Colors } from "./output.js";
import { listCell, renderFields, renderTable, shortHash, shortTime } from "./table-fns.js";

export function namespaceTable(items: readonly Namespace[], colors: Colors): string {
  if (items.length === 0) return "No namespaces yet. Create one with `nexus ns create <name>`.\n";
  return renderTable(
    ["name", "environments", "owners", "revision", "description"],
    items.map((n) => [n.name, listCell(n.environments), listCell(n.owners), n.headRevision, n.description]),
    colors,
  );
}

export function namespaceFields(n: Namespace, colors: Colors): string {
  const vars = Object.entries(n.variables);
  const out = renderFields(
    [
      ["name", n.name],
      ["description", n.description || "-"],
      ["owners", listCell(n.owners)],
      ["environments", listCell(n.environments)],
      ["head revision", n.headRevision],
      ["created", shortTime(n.createdAt)],
      ["updated", shortTime(n.updatedAt)],
      ["variables", vars.length === 0 ? "-" : String(vars.length)],
    ],
    colors,
  );
  if (vars.length === 0) return out;
  return `${out}\n${renderTable(["variable", "value"], vars, colors)}`;
}

/** `shop/base: revision 5 (was 3); resolved config changed in production` */
export function writeResultLine(r: WriteResult, colors: Colors): string {
  const target = colors.bold(`${r.namespace}/${r.layer}`);
  if (!r.changed) {
    return `${target}: unchanged (the content equals revision ${r.revision}); nothing written\n`;
  }
  const envs =
    r.changedEnvironments.length === 0
      ? "no environment's resolved config changed"
      : `resolved config changed in ${r.changedEnvironments.join(", ")}`;
  return `${target}: revision ${colors.green(String(r.revision))} (was ${r.previousRevision}); ${envs}\n`;
}

export function historyTable(items: readonly RevisionSummary[], colors: Colors): string {
  if (items.length === 0) return "No revisions yet.\n";
  return renderTable(
    ["revision", "created", "author", "source", "hash", "message"],
    items.map((r) => [r.revision, shortTime(r.createdAt), r.author, r.source, shortHash(r.hash), r.message]),
    colors,
  );
}

/** One row per leaf: where its value came from (layer, revision) and the references it went through. */
export function explainTable(resolved: Resolved, colors: Colors): string {
  const header = `${resolvedHeader(resolved)}\n`;
  const entries = Object.entries(resolved.explain ?? {}) as [string, Provenance][];
  if (entries.length === 0) return `${header}(empty configuration)\n`;
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return (
    header +
    renderTable(
      ["key", "value", "layer", "revision", "via"],
      entries.map(([pointer, p]) => [
        pointer,
        formatValue(p.value),
        p.layer,
        p.revision ?? "-",
        p.references && p.references.length > 0 ? p.references.join(", ") : "",
      ]),
      colors,
    )
  );
}

/** A comment line naming what was fetched: valid in YAML and .env, so output can be saved and reused. */
export function resolvedHeader(r: Resolved): string {
  return `# ${r.namespace}/${r.environment} · revision ${r.revision} · sha256 ${shortHash(r.hash)}`;
}

/**
 * A write that opened a change request instead: what happened, its id, and how an approver
 * approves it (there is no `nexus` command for change requests yet, so the API call).
 */
export function pendingChangeText(pending: PendingChange, baseUrl: string, colors: Colors): string {
  const c = pending.changeRequest;
  const target = colors.bold(`${c.namespace}/${c.layer}`);
  const approve = `${baseUrl}/v1/change-requests/${c.id}`;
  return (
    `${target}: change request ${colors.yellow(c.id)} opened; nothing is written until an approver approves it.\n` +
    `${pending.message}\n` +
    "An approver (someone else with the approver role there) approves it (or /reject) with:\n" +
    `  curl -X POST -H "Authorization: Bearer $NEXUS_TOKEN" -H "Content-Type: application/json" -d '{"comment":""}' ${approve}/approve\n` +
    `See it with: curl -H "Authorization: Bearer $NEXUS_TOKEN" ${approve}\n`
  );
}
