import { BadRequestError, ConflictError, ValidationError } from "@nexus/kit";
import { redactUrl } from "../documents/url-fns.js";
import type { GitBoundLayer } from "./write-store.js";

/** The refusals of the write path, in the words a caller sees. */

/** If-Match: the layer must still be at the revision the caller read (0: never written). */
export function assertExpectedRevision(
  current: number,
  expected: number | undefined,
  namespace: string,
  layer: string,
): void {
  if (expected === undefined || expected === current) return;
  throw new ConflictError(
    "revision_conflict",
    `Layer ${namespace}/${layer} is at revision ${current}, not ${expected}: someone changed it since you read it. Fetch it again and reapply your change.`,
    { field: "If-Match", details: { currentRevision: current, expectedRevision: expected } },
  );
}

/** A layer written by a Git import: refused to everyone else unless they override. */
export function gitBoundLayer(namespace: string, layer: string, bound: GitBoundLayer): ConflictError {
  return new ConflictError(
    "git_bound_layer",
    `Layer ${namespace}/${layer} follows Git source ${bound.source}: change ${bound.path} on branch ${bound.branch} of ${redactUrl(bound.url)} instead, or send ?override=git to write it here anyway (reported as source drift until the next import)`,
    { field: "layer", details: { source: bound.source, path: bound.path, branch: bound.branch } },
  );
}

export function secretOverNats(): BadRequestError {
  return new BadRequestError(
    "secret_over_nats",
    "Secrets cannot be written over NATS (their values would travel on the bus); write them with PUT /v1/namespaces/{ns}/layers/{layer}",
    { field: "content" },
  );
}

export function placeholderWritten(pointer: string): ValidationError {
  return new ValidationError(
    "secret_placeholder",
    `The value at ${pointer} is "***", the placeholder reads show for the secret stored there; send {"$secret": "<value>"} to change it, or leave it out of a PATCH to keep it`,
    { field: pointer },
  );
}

export function concurrentChange(namespace: string, layer: string): ConflictError {
  return new ConflictError(
    "concurrent_change",
    `Namespaces that read ${namespace} kept changing while ${namespace}/${layer} was being written; send it again.`,
  );
}
