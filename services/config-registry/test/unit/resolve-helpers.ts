import { ValidationError } from "@nexus/kit";
import { expect } from "vitest";
import { type ReferenceProblem, type ResolveResult, resolveDocument } from "../../src/resolve/resolve-fns.js";

/** Resolution of a document of namespace `app` against a small in-memory world of namespaces. */
export type Doc = Record<string, unknown>;

export interface World {
  vars?: Record<string, string>;
  namespaces?: Record<string, { doc: Doc; vars?: Record<string, string> }>;
  trace?: boolean;
}

export const loads: string[] = [];

export function resolve(doc: Doc, world: World = {}): ResolveResult {
  return resolveDocument({
    namespace: "app",
    document: doc,
    variables: world.vars ?? {},
    loadNamespace: (ns) => {
      loads.push(ns);
      return world.namespaces?.[ns]?.doc;
    },
    loadVariables: (ns) => world.namespaces?.[ns]?.vars,
    trace: world.trace,
  });
}

export function failure(
  doc: Doc,
  world: World = {},
): ValidationError & { details: { errors: ReferenceProblem[]; chain: string[]; reference: string } } {
  try {
    resolve(doc, world);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError & {
      details: { errors: ReferenceProblem[]; chain: string[]; reference: string };
    };
  }
  throw new Error("expected resolution to fail");
}
