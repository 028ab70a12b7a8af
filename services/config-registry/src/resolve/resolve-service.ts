import type { ConfigChanged } from "@nexus/contracts";
import { AppError, enqueueEvents, type OutboxRows, type Queryable, ValidationError } from "@nexus/kit";
import { canonicalJson, changedPaths, deepMergeShared, hashOfCanonical } from "../documents/document-fns.js";
import { compileSchema, type SchemaViolation } from "../documents/schema-fns.js";
import type { LayerStore } from "../layers/layer-store.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import { mayHoldSecrets } from "../secrets/secret-doc-fns.js";
import { comparableOfBody, resolvedSecretForms, violationsOfSecrets } from "../secrets/secret-resolve-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import { type DependencyMap, nextDependencies, readersReached, unionReads } from "./dependency-fns.js";
import type { DependencyStore } from "./dependency-store.js";
import type { KnownDocumentsCache } from "./known-documents.js";
import { createNamespaceStates } from "./namespace-states.js";
import { concurrentDependentChange } from "./resolve-conflicts.js";
import { resolveDocument } from "./resolve-fns.js";
import type { ResolveStore } from "./resolve-store.js";
import type {
  NamespaceState,
  RecomputeRequest,
  ResolutionPlan,
  ResolvedHead,
  StoredHead,
} from "./resolve-types.js";
import { renderResolvedBody } from "./resolved-fns.js";

export interface ResolveServiceDeps {
  dependencies: Pick<DependencyStore, "readers" | "dependencies" | "setDependencies" | "advanceVersions">;
  layers: Pick<LayerStore, "findAllOf">;
  /** The JSON Schemas of these namespaces (those that have one): `schemas/schema-store` answers it. */
  schemas: {
    findMany(q: Queryable, namespaces: string[]): Promise<Map<string, Record<string, unknown>>>;
  };
  resolved: Pick<ResolveStore, "findManyLeavingOut" | "findReaders" | "upsertMany">;
  /** Wrap `config.changed` events as outbox rows (written in the caller's transaction). */
  prepareEvents: (events: ConfigChanged[], traceparent?: string) => OutboxRows;
  /** Decrypts secrets for schema validation (documents with secrets only). */
  secrets: Pick<SecretService, "reveal">;
  /** Resolutions are kept here, so the next write's read can leave their bodies out. */
  known: Pick<KnownDocumentsCache, "rememberResolved" | "snapshot">;
}

interface Resolution {
  namespace: string;
  environment: string;
  /** What `changedPaths` compares (with secrets, each one a leaf that changes with its value). */
  comparable: Record<string, unknown>;
  /** Canonical JSON of the content as served (secrets redacted): embedded in the response body. */
  canonical: string;
  hash: string;
  /** Documents with secrets: the stored form (canonical JSON) and the secrets' digests. */
  sealed?: string;
  secretDigests?: Record<string, string>;
}

/** `rolloutGate` of an event: whether a rollout's gate is open on the place; left out if not read. */
function rolloutGateOf(state: NamespaceState, environment: string): { rolloutGate?: boolean } {
  if (!state.rolloutGates) return {};
  return { rolloutGate: Object.values(state.rolloutGates).includes(environment) };
}

/** The newest revision among the layers an environment reads (for an environment just added). */
function layerRevisionOf(state: NamespaceState, environment: string): number {
  return Math.max(state.layerRevisions.get(BASE_LAYER) ?? 0, state.layerRevisions.get(environment) ?? 0);
}

export function createResolveService(deps: ResolveServiceDeps) {
  const { loadStates, loadReferenced, previousHeads, loadReaders } = createNamespaceStates(deps);

  /** The previous document, as the next write's changed paths compare it. */
  function comparableBefore(before: StoredHead): Record<string, unknown> {
    return before.comparable ?? comparableOfBody(before.body!);
  }

  /** Shares the layers' subtrees: only the resolver reads it, and it never changes what it reads. */
  function merged(state: NamespaceState, environment: string): Record<string, unknown> {
    return deepMergeShared(state.layers.get(BASE_LAYER) ?? {}, state.layers.get(environment) ?? {});
  }

  /**
   * `merged`, kept for the rest of one resolution pass: N readers of an upstream read the same
   * merged upstream document, which would otherwise be built again for each of them (its size
   * times N). Safe to share: the resolver never changes a document it reads, and returns copies.
   */
  function mergedOnce(
    memo: Map<string, Record<string, unknown>> | undefined,
    state: NamespaceState,
    environment: string,
  ): Record<string, unknown> {
    if (!memo) return merged(state, environment);
    const key = `${state.name}\u0000${environment}`;
    let doc = memo.get(key);
    if (!doc) {
      doc = merged(state, environment);
      memo.set(key, doc);
    }
    return doc;
  }

  function resolveIn(
    states: Map<string, NamespaceState>,
    namespace: string,
    environment: string,
    trace = false,
    /** Merged documents of other namespaces, shared by the resolutions of one pass. */
    memo?: Map<string, Record<string, unknown>>,
  ) {
    const state = states.get(namespace)!;
    try {
      return resolveDocument({
        namespace,
        document: merged(state, environment),
        variables: state.variables,
        loadNamespace: (other) => {
          const s = states.get(other);
          return s ? mergedOnce(memo, s, environment) : undefined;
        },
        loadVariables: (other) => states.get(other)?.variables,
        trace,
      });
    } catch (err) {
      if (err instanceof AppError) {
        const details = { ...(err.details as object | undefined), namespace, environment };
        throw new ValidationError(err.code, `${namespace}/${environment}: ${err.message}`, {
          field: err.field,
          details,
          cause: err,
        });
      }
      throw err;
    }
  }

  return {
    loadStates,
    loadReferenced,
    resolveIn,

    plan,

    /**
     * `plan`, then store its heads and events in the caller's transaction (which holds the
     * target's row lock). The other namespaces whose heads it writes are locked and moved on too,
     * refused (409) if one changed since it was read.
     */
    async recompute(q: Queryable, req: RecomputeRequest): Promise<ResolvedHead[]> {
      const { heads, outbox, dependencies, others } = await plan(q, req);
      if (!(await deps.dependencies.advanceVersions(q, others))) throw concurrentDependentChange();
      await deps.dependencies.setDependencies(q, dependencies);
      const stored = await deps.resolved.upsertMany(q, heads);
      await enqueueEvents(q, outbox);
      return stored;
    },
  };

  /**
   * Re-resolve the target and every namespace that reads it, in every environment; refuse the
   * whole change (422) if any reference breaks or any schema is violated; otherwise return the new
   * resolved heads and one `config.changed` per (namespace, environment) that changed, for the
   * caller to store. Runs inside the caller's transaction, with the target namespace row locked.
   */
  async function plan(q: Queryable, req: RecomputeRequest): Promise<ResolutionPlan> {
    const states = new Map<string, NamespaceState>([[req.target.name, req.target]]);
    // Only the readers that read what changed: the others' documents stay as they are.
    const dependents = readersReached(
      (req.preloaded?.dependents ?? (await deps.dependencies.readers(q, req.target.name))).filter(
        (d) => d.name !== req.target.name,
      ),
      req.changedPointers,
    ).map((d) => d.name);
    const readers = await loadReaders(q, dependents, states);
    await loadReferenced(q, states);

    const affected = [req.target.name, ...dependents.filter((d) => states.has(d))];
    // The target's schema and heads: read with it by the write path, else queried here.
    const schemas = new Map(readers.schemas);
    const targetSchema = req.preloaded
      ? req.preloaded.schema
      : ((await deps.schemas.findMany(q, [req.target.name])).get(req.target.name) ?? null);
    if (targetSchema) schemas.set(req.target.name, targetSchema);
    if (req.schemaOverride !== undefined) {
      if (req.schemaOverride === null) schemas.delete(req.target.name);
      else schemas.set(req.target.name, req.schemaOverride);
    }
    const targetHeads = req.preloaded?.resolved ?? (await previousHeads(q, req.target.name));

    /** New dependencies of the target and of readers whose reads changed with it. */
    const dependencies = new Map<string, DependencyMap>();
    /**
     * Namespaces the target or a reader starts reading (or reads at a new pointer) with this
     * change: a concurrent write to one of them must see that, so it must fail its swap.
     */
    const newlyRead = new Set<string>();
    const targetDependencies =
      req.preloaded?.dependencies ?? (await deps.dependencies.dependencies(q, req.target.name));
    const resolutions: Resolution[] = [];
    const violations: {
      namespace: string;
      environment: string;
      pointer: string;
      message: string;
      keyword: string;
    }[] = [];
    const mergedMemo = new Map<string, Record<string, unknown>>();
    for (const namespace of affected) {
      const state = states.get(namespace)!;
      const reads = new Map<string, Set<string>>();
      const schema = schemas.get(namespace);
      const validate = schema ? compileSchema(schema) : undefined;
      const environments = req.environments
        ? state.environments.filter((e) => req.environments!.includes(e))
        : state.environments;
      for (const environment of environments) {
        const resolved = resolveIn(states, namespace, environment, false, mergedMemo);
        const value = resolved.value;
        unionReads(reads, resolved.reads);
        const canonical = canonicalJson(value);
        if (!mayHoldSecrets(canonical)) {
          for (const v of validate?.(value) ?? []) violations.push({ namespace, environment, ...v });
          resolutions.push({
            namespace,
            environment,
            comparable: value,
            canonical,
            hash: hashOfCanonical(canonical),
          });
          continue;
        }
        // Secrets: the schema sees their values; what is stored, hashed and served does not.
        if (validate) {
          const found: SchemaViolation[] = validate(await deps.secrets.reveal(q, value, true));
          for (const v of violationsOfSecrets(found, value))
            violations.push({ namespace, environment, ...v });
        }
        resolutions.push({ namespace, environment, sealed: canonical, ...resolvedSecretForms(value) });
      }
      const stored = namespace === req.target.name ? targetDependencies : readers.dependencies.get(namespace);
      // Every reader is loaded by `loadReaders`, with what it reads; without that, a partial
      // resolution would store only what it found and drop the rest.
      if (!stored) throw new Error(`the dependencies of ${namespace} were not loaded`);
      const found = nextDependencies(
        namespace,
        stored,
        reads,
        environments.length === state.environments.length,
      );
      if (found.next) dependencies.set(namespace, found.next);
      for (const name of found.grown) newlyRead.add(name);
    }
    if (violations.length > 0) {
      const first = violations[0]!;
      throw new ValidationError(
        "schema_violation",
        `The configuration breaks the JSON Schema of ${first.namespace} in ${first.environment} at ${first.pointer || "/"}: ${first.message}` +
          (violations.length > 1 ? ` (and ${violations.length - 1} more)` : ""),
        { field: first.pointer, details: { violations } },
      );
    }

    const previous = new Map<string, StoredHead>(
      [...targetHeads, ...readers.heads].map((h) => [`${h.namespace}/${h.environment}`, h]),
    );
    const changed: ResolvedHead[] = [];
    const events: ConfigChanged[] = [];
    for (const r of resolutions) {
      const before = previous.get(`${r.namespace}/${r.environment}`);
      if (before?.hash === r.hash) continue;
      const isTarget = r.namespace === req.target.name;
      const revision =
        isTarget && req.newRevision !== undefined
          ? req.newRevision
          : (before?.revision ?? layerRevisionOf(states.get(r.namespace)!, r.environment));
      const head: ResolvedHead = {
        namespace: r.namespace,
        environment: r.environment,
        revision,
        hash: r.hash,
        body: renderResolvedBody({ ...r, revision }),
        sealed: r.sealed ?? null,
      };
      changed.push(head);
      if (revision === 0) continue; // nothing was ever written; no consumer can hold a revision yet
      // Kept before the commit: by hash, so an entry for a write then refused is only unused.
      deps.known.rememberResolved(r.namespace, r.environment, r.hash, r.comparable);
      const previousContent = before ? comparableBefore(before) : {};
      events.push({
        schemaVersion: 1,
        namespace: r.namespace,
        environment: r.environment,
        revision,
        previousRevision: before?.revision ?? 0,
        hash: r.hash,
        previousHash: before?.hash ?? null,
        layer: req.layer,
        changedPaths: changedPaths(previousContent, r.comparable),
        trigger: isTarget ? req.trigger : "dependency",
        actor: req.actor,
        source: req.source,
        ...rolloutGateOf(states.get(r.namespace)!, r.environment),
      });
    }
    // Those whose heads or dependencies this writes, and those read anew: a concurrent write to
    // one of the latter did not know this reaches it, so it must fail its swap and start over.
    const others = [...new Set([...changed.map((h) => h.namespace), ...dependencies.keys(), ...newlyRead])]
      .filter((name) => name !== req.target.name && states.has(name))
      .sort()
      .map((name) => ({ name, writeVersion: states.get(name)!.writeVersion! }));
    return {
      heads: changed,
      outbox: deps.prepareEvents(events, req.traceparent),
      dependencies,
      others,
    };
  }
}
export type ResolveService = ReturnType<typeof createResolveService>;
