import type { ContentFormat } from "../documents/content-fns.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import type { BoundLayer, GitSource } from "./git-source-types.js";

/** The provider's `owner/name` from a repository URL (its path without `.git`). */
export function repositoryOfUrl(url: string): string {
  const scp = /^[^@/]+@[^:/]+:(.+)$/.exec(url);
  const path = scp ? scp[1]! : url.replace(/^[a-z]+:\/\/[^/]*/, "");
  const parts = path
    .replace(/\.git\/?$/, "")
    .split("/")
    .filter(Boolean);
  // file:// paths are long; the last two segments stand for owner/name as a forge would show them.
  return (url.startsWith("file://") ? parts.slice(-2) : parts).join("/");
}

/**
 * The host a repository URL makes git connect to (https://, ssh://, scp-like `user@host:path`);
 * null for file:// (a path on the registry's own host, no connection).
 */
export function repositoryHost(url: string): string | null {
  if (url.startsWith("file://")) return null;
  const scp = /^[^@/]+@([^:/]+):/.exec(url);
  if (scp) return scp[1]!;
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "") || null;
  } catch {
    return null;
  }
}

export function renderPath(template: string, namespace: string, environment?: string): string {
  return template.replaceAll("<namespace>", namespace).replaceAll("<environment>", environment ?? "");
}

/** The layers a source owns: base from `baseBranch` (when set), each mapped environment's overlay. */
export function boundLayersOf(
  source: Pick<GitSource, "namespaces" | "environments" | "baseBranch" | "layout">,
): BoundLayer[] {
  const out: BoundLayer[] = [];
  for (const namespace of source.namespaces) {
    if (source.baseBranch !== null)
      out.push({
        namespace,
        layer: BASE_LAYER,
        branch: source.baseBranch,
        path: renderPath(source.layout.base, namespace),
      });
    for (const [environment, branch] of Object.entries(source.environments))
      out.push({
        namespace,
        layer: environment,
        branch,
        path: renderPath(source.layout.environment, namespace, environment),
      });
  }
  return out;
}

/** The branches a source follows. */
export function branchesOf(source: Pick<GitSource, "environments" | "baseBranch">): string[] {
  const all = new Set(Object.values(source.environments));
  if (source.baseBranch !== null) all.add(source.baseBranch);
  return [...all].sort();
}

/**
 * The layers a push to `branch` must import: those of the branch whose file the push touched, or
 * all of them when the provider did not list the files (or on a first import or resync).
 */
export function layersToImport(
  bound: readonly BoundLayer[],
  branch: string,
  changedFiles: readonly string[] | null,
): BoundLayer[] {
  const touched = changedFiles === null ? null : new Set(changedFiles);
  return bound.filter((b) => b.branch === branch && (touched === null || touched.has(b.path)));
}

export function branchOfRef(ref: string): string | null {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null;
}

/** Content type that `parseContent` reads for a file, by its extension. */
export function contentTypeOfPath(path: string): string {
  return formatOfPath(path) === "yaml"
    ? "application/yaml"
    : formatOfPath(path) === "env"
      ? "application/x-env"
      : "application/json";
}

export function formatOfPath(path: string): ContentFormat {
  if (/\.ya?ml$/.test(path)) return "yaml";
  if (/\.env$/.test(path)) return "env";
  return "json";
}

/** The revision source of an import: `git:<repo>@<sha>`. */
export const gitRevisionSource = (repository: string, sha: string) => `git:${repository}@${sha}`;

/** Order of layers in one import: by namespace (so row locks are always taken in one order), base first. */
export function importOrder<T extends { namespace: string; layer: string }>(layers: readonly T[]): T[] {
  return [...layers].sort((a, b) =>
    a.namespace !== b.namespace
      ? a.namespace < b.namespace
        ? -1
        : 1
      : a.layer === BASE_LAYER
        ? -1
        : b.layer === BASE_LAYER
          ? 1
          : a.layer.localeCompare(b.layer),
  );
}

export { redactUrl } from "../documents/url-fns.js";
