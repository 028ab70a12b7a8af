import { BadRequestError, ConflictError, NotFoundError, ValidationError } from "@nexus/kit";
import { redactUrl } from "../git-sources/git-source-fns.js";
import type { Namespace } from "../namespaces/namespace-types.js";
import { BASE_LAYER } from "./layer-types.js";
import type { GitBoundLayer } from "./layer-write-store.js";

/** The refusals of the layer write path, in the words a caller sees. */

/** A layer written by a Git import: refused to everyone else unless they override. */
export function gitBoundLayer(namespace: string, layer: string, bound: GitBoundLayer): ConflictError {
  return new ConflictError(
    "git_bound_layer",
    `Layer ${namespace}/${layer} follows Git source ${bound.source}: change ${bound.path} on branch ${bound.branch} of ${redactUrl(bound.url)} instead, or send ?override=git to write it here anyway (reported as source drift until the next import)`,
    { field: "layer", details: { source: bound.source, path: bound.path, branch: bound.branch } },
  );
}

export function assertLayerOf(ns: Pick<Namespace, "name" | "environments">, layer: string): void {
  if (layer !== BASE_LAYER && !ns.environments.includes(layer)) {
    throw new NotFoundError(
      "environment_not_found",
      `Namespace ${ns.name} has no environment "${layer}" (it has: ${ns.environments.join(", ")}); the layer must be "base" or one of them`,
      { field: "layer" },
    );
  }
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

export function namespaceNotFound(name: string): NotFoundError {
  return new NotFoundError("namespace_not_found", `Namespace ${name} does not exist`, { field: "namespace" });
}
