import { NotFoundError } from "@nexus/kit";

export function revisionNotFound(
  namespace: string,
  layer: string,
  revision: number,
  field: string,
): NotFoundError {
  return new NotFoundError(
    "revision_not_found",
    `Layer ${namespace}/${layer} has no revision ${revision} (revisions are numbered per namespace; list them with GET .../revisions)`,
    { field },
  );
}

export function namespaceRevisionNotFound(namespace: string, revision: number): NotFoundError {
  return new NotFoundError("revision_not_found", `Namespace ${namespace} has no revision ${revision}`, {
    field: "n",
  });
}
