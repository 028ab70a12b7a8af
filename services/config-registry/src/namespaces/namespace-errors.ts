import { NotFoundError } from "@nexus/kit";
import { BASE_LAYER, type Namespace } from "./namespace-types.js";

export function namespaceNotFound(name: string): NotFoundError {
  return new NotFoundError("namespace_not_found", `Namespace ${name} does not exist`, { field: "namespace" });
}

/** A namespace's layers are `base` and one overlay per environment. */
export function assertLayerOf(ns: Pick<Namespace, "name" | "environments">, layer: string): void {
  if (layer !== BASE_LAYER && !ns.environments.includes(layer)) {
    throw new NotFoundError(
      "environment_not_found",
      `Namespace ${ns.name} has no environment "${layer}" (it has: ${ns.environments.join(", ")}); the layer must be "base" or one of them`,
      { field: "layer" },
    );
  }
}
