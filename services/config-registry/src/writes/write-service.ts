import {
  isAppError,
  isTransactionConflict,
  type OutboxPlace,
  type OutboxRows,
  type OutboxTicket,
  type Pool,
  type Queryable,
  withTransaction,
} from "@nexus/kit";
import { assertJsonObject } from "../documents/content-fns.js";
import {
  applyMergePatch,
  canonicalJson,
  changedPaths,
  diffDocuments,
  hashOfCanonical,
} from "../documents/document-fns.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import { BASE_LAYER } from "../namespaces/namespace-types.js";
import type { PolicyGate } from "../policies/policy-gate.js";
import type { KnownDocumentsCache } from "../resolve/known-documents.js";
import { knownKey } from "../resolve/known-documents.js";
import type { ResolveCache } from "../resolve/resolve-cache.js";
import type { ResolveService } from "../resolve/resolve-service.js";
import type { NamespaceState, ResolvedHead } from "../resolve/resolve-types.js";
import { revisionNotFound } from "../revisions/revision-errors.js";
import type { RevisionStore } from "../revisions/revision-store.js";
import {
  hashFormOf,
  mayHoldSecrets,
  placeholderOverSecret,
  REDACTED,
  redactDiff,
} from "../secrets/secret-doc-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { GroupCommitter } from "./group-commit.js";
import {
  assertExpectedRevision,
  concurrentChange,
  gitBoundLayer,
  placeholderWritten,
  secretOverNats,
} from "./write-errors.js";
import {
  type HeldWriteState,
  heldAfterCommit,
  heldFromRead,
  heldView,
  type WriteStateCache,
} from "./write-state-cache.js";
import type { CommittedWrite, WriteStore } from "./write-store.js";
import type { MakeContent, WriteContext, WriteOutcome, WriteResult } from "./write-types.js";

export interface WriteServiceDeps {
  pool: Pool;
  writes: WriteStore;
  /** Commits of writes outside a caller's transaction, grouped when they come together. */
  commits: Pick<GroupCommitter, "commit">;
  /** Each namespace's write context as this instance last committed it (a write then reads nothing). */
  held: WriteStateCache;
  /** Rollbacks read the revision they restore. */
  revisions: Pick<RevisionStore, "find">;
  resolve: Pick<ResolveService, "plan">;
  cache: Pick<ResolveCache, "replace">;
  /** Documents this process holds: a write's read leaves them out. */
  known: Pick<KnownDocumentsCache, "snapshot" | "rememberLayer">;
  /** After a commit that enqueued events. */
  wakeOutbox: () => void;
  /** Right after a write's commit: its events, published from memory once released (kit relay). */
  handOver?: (rows: OutboxRows, places?: readonly OutboxPlace[]) => OutboxTicket;
  secrets: Pick<SecretService, "seal" | "reveal" | "holdsPlaintext">;
  /** Policies as a blocking check (the drift-detector's); absent: writes are not checked. */
  policies?: PolicyGate | undefined;
  /** Record an API write over a Git-bound layer (`?override=git`), for source-drift reports. */
  onGitOverride?: (namespace: string, layer: string, actor: string, revision: number) => Promise<void>;
}

const isGitImport = (ctx: WriteContext) => ctx.source.startsWith("git:");

const LOCKED_ATTEMPTS = 3;

/**
 * The write path of the registry, top to bottom: every change to a layer (REST PUT / PATCH,
 * rollback, an approved change request, the NATS set command, a Git import) goes through
 * `write` (or `writeAll`): read the namespace, check If-Match, compute the new content, seal
 * secrets, re-resolve everything the change reaches, check policies, then commit revision,
 * heads, events and audit line in one statement that applies only if nothing moved meanwhile.
 */
export function createWriteService(deps: WriteServiceDeps) {
  /**
   * The one write path (REST PUT/PATCH, rollback, NATS command): read the namespace, check the
   * expected revision, re-resolve and validate everything the change touches, then store the
   * revision, the new heads and the events in one statement that applies only if nothing changed
   * the namespace meanwhile; if something did, start over from the new state (and its If-Match).
   * The read is skipped when this instance holds the namespace's state from its own last commit
   * (`write-state-cache.ts`): then the commit is the only round trip, and the swap checks the held
   * state; whatever else it leads to is decided again from a fresh read (two round trips).
   */
  async function write(
    namespace: string,
    layer: string,
    makeContent: MakeContent,
    ctx: WriteContext,
    trigger: "write" | "rollback" = "write",
  ): Promise<WriteResult> {
    const outcome =
      (await heldWrite(namespace, layer, makeContent, ctx, trigger)) ??
      (await attemptWrite(deps.pool, false, namespace, layer, makeContent, ctx, trigger).catch(
        (err: unknown) => (isTransactionConflict(err) ? null : Promise.reject(err)),
      )) ??
      // Lost the swap to a concurrent change: go again holding the namespace's row lock, so that
      // writers queue instead of racing (and always make progress).
      (await lockedWrite(namespace, layer, makeContent, ctx, trigger));
    if (outcome.held) deps.held.put(namespace, outcome.held);
    // Handed over before anything awaits, so the relay's tickets follow commit order.
    const ticket =
      outcome.outbox && deps.handOver
        ? deps.handOver(outcome.outbox, outcome.places)
        : { release: () => (outcome.changed.length > 0 ? deps.wakeOutbox() : undefined) };
    let cached: Promise<void> | undefined;
    try {
      if (outcome.overrodeGit && outcome.result.changed)
        await deps.onGitOverride?.(namespace, layer, ctx.author, outcome.result.revision);
      // Memory is replaced before `replace` first awaits, so the event may go out while Redis is
      // brought up to date (another instance asked for the new version reads Postgres until then).
      cached = deps.cache.replace(outcome.changed);
    } finally {
      // Released whatever happened after the commit: a ticket never released would hold back
      // every one after it until the relay's next read of the outbox.
      ticket.release();
    }
    await cached;
    return outcome.result;
  }

  /**
   * The write from the held state, without a read; null (and the state dropped) unless it
   * committed. A refusal (If-Match, a missing layer, a Git-bound layer, a schema) or "unchanged"
   * decided from a state that may be stale is not answered: the fresh read decides it again.
   */
  async function heldWrite(
    namespace: string,
    layer: string,
    makeContent: MakeContent,
    ctx: WriteContext,
    trigger: "write" | "rollback",
  ): Promise<WriteOutcome | null> {
    const held = deps.held.get(namespace);
    if (!held) return null;
    const outcome = await attemptWrite(
      deps.pool,
      false,
      namespace,
      layer,
      makeContent,
      ctx,
      trigger,
      held,
    ).catch((err: unknown) => (isAppError(err) || isTransactionConflict(err) ? null : Promise.reject(err)));
    if (outcome?.result.changed) return outcome;
    deps.held.forget(namespace, held);
    return null;
  }

  /**
   * The write in a transaction that takes the namespace's row lock as it reads. The swap can still
   * fail when a namespace that reads this one moved meanwhile (its version is checked too), and
   * the commit's locks on those readers can close a cycle with another commit, which Postgres
   * breaks by failing one: both go again, a few times.
   */
  async function lockedWrite(
    namespace: string,
    layer: string,
    makeContent: MakeContent,
    ctx: WriteContext,
    trigger: "write" | "rollback",
  ): Promise<WriteOutcome> {
    for (let attempt = 1; attempt <= LOCKED_ATTEMPTS; attempt++) {
      try {
        const outcome = await withTransaction(deps.pool, (client) =>
          attemptWrite(client, true, namespace, layer, makeContent, ctx, trigger),
        );
        if (outcome) return outcome;
      } catch (err) {
        if (!isTransactionConflict(err) || attempt === LOCKED_ATTEMPTS) throw err;
      }
    }
    throw concurrentChange(namespace, layer);
  }

  /**
   * One read-resolve-swap pass (from `held` instead of a read, when given); null when a concurrent
   * change won the swap.
   */
  async function attemptWrite(
    q: Queryable,
    lock: boolean,
    namespace: string,
    layer: string,
    makeContent: MakeContent,
    ctx: WriteContext,
    trigger: "write" | "rollback",
    held?: HeldWriteState,
  ): Promise<WriteOutcome | null> {
    const view = held && heldView(held, layer);
    if (held && !view) return null;
    const current =
      view ??
      (await deps.writes.readForWrite(q, namespace, layer, { lock, known: deps.known.snapshot(namespace) }));
    if (!current) throw namespaceNotFound(namespace);
    for (const l of current.layers) {
      if (!Object.isFrozen(l.content)) deps.known.rememberLayer(namespace, l.layer, l.hash, l.content);
    }
    const ns = current.namespace;
    assertLayerOf(ns, layer);
    const bound = current.gitBound.find((b) => b.layer === layer);
    if (bound && !isGitImport(ctx)) {
      if (!ctx.gitOverride) throw gitBoundLayer(namespace, layer, bound);
      ctx = { ...ctx, source: `${ctx.source}:git-override` };
    }
    const head = current.layers.find((l) => l.layer === layer) ?? null;
    assertExpectedRevision(head?.revision ?? 0, ctx.expectedRevision, namespace, layer);
    let content = assertJsonObject(await makeContent(head, q));
    let canonical = canonicalJson(content);
    if (head && canonical.includes(`"${REDACTED}"`)) {
      const pointer = placeholderOverSecret(head.content, content);
      if (pointer !== undefined) throw placeholderWritten(pointer);
    }
    if (mayHoldSecrets(canonical)) {
      // Stored sealed; hashed over the secrets' digests, so the same value is "unchanged".
      if (ctx.source === "nats" && deps.secrets.holdsPlaintext(content)) throw secretOverNats();
      content = await deps.secrets.seal(q, namespace, content, {
        trusted: head?.content,
        fromHistory: trigger === "rollback" || ctx.trustSealed === true,
      });
      canonical = canonicalJson(hashFormOf(content));
    }
    const hash = hashOfCanonical(canonical);
    const previousRevision = head?.revision ?? 0;
    if (head && head.hash === hash && trigger === "write") {
      const unchanged: WriteResult = {
        namespace,
        layer,
        revision: head.revision,
        previousRevision,
        hash,
        changed: false,
        changedEnvironments: [],
      };
      return { result: unchanged, changed: [] };
    }

    const revision = ns.headRevision + 1;
    const target: NamespaceState = {
      name: ns.name,
      environments: ns.environments,
      variables: ns.variables,
      rolloutGates: current.rolloutGates,
      layers: new Map(current.layers.map((l) => [l.layer, l.content])),
      layerRevisions: new Map(current.layers.map((l) => [l.layer, l.revision])),
    };
    target.layers.set(layer, content);
    target.layerRevisions.set(layer, revision);

    const plan = await deps.resolve.plan(q, {
      target,
      ...(layer === BASE_LAYER ? {} : { environments: [layer] }),
      // Where the layer changed, for its readers (only those reading there are re-resolved).
      ...(current.dependents.length > 0
        ? { changedPointers: changedPaths(head?.content ?? {}, content) }
        : {}),
      newRevision: revision,
      trigger,
      layer,
      actor: ctx.author,
      source: ctx.source,
      traceparent: ctx.traceparent,
      preloaded: current,
    });
    await deps.policies?.check(plan.heads);
    // In the caller's transaction (`lock`) the write commits with it; otherwise it may share its
    // statement with concurrent writes to other namespaces.
    const commit = lock ? (w: CommittedWrite) => deps.writes.commitWrite(q, w) : deps.commits.commit;
    const stored = await commit({
      expectedWriteVersion: current.writeVersion,
      incarnation: current.incarnation,
      dependencies: plan.dependencies,
      revision: {
        namespace,
        revision,
        layer,
        content,
        hash,
        diff: redactDiff(diffDocuments(head?.content ?? {}, content)),
        author: ctx.author,
        message: ctx.message,
        source: ctx.source,
      },
      heads: plan.heads,
      outbox: plan.outbox,
      others: plan.others,
      audit: ctx.audit,
    });
    if (!stored) return null;
    deps.known.rememberLayer(namespace, layer, hash, content);
    const written: WriteResult = {
      namespace,
      layer,
      revision,
      previousRevision,
      hash,
      changed: true,
      changedEnvironments: plan.heads.filter((h) => h.namespace === namespace).map((h) => h.environment),
    };
    // Namespaces this commit re-resolved moved on: their held states cannot swap any more.
    for (const other of plan.others) deps.held.forget(other.name);
    const knownAfter = deps.known.snapshot(namespace);
    return {
      result: written,
      changed: stored.heads,
      outbox: plan.outbox,
      places: stored.places,
      held: heldAfterCommit(held ?? heldFromRead(current, layer), {
        layer,
        revision,
        content,
        hash,
        dependencies: plan.dependencies,
        heads: stored.heads,
        comparableOf: (environment, h) => knownAfter.resolved.get(knownKey(environment, h)),
      }),
      ...(bound && !isGitImport(ctx) ? { overrodeGit: true } : {}),
    };
  }

  /**
   * Several layer writes in the caller's transaction, all or nothing (a Git import: one push).
   * Each takes its namespace's row lock (in namespace order, so two imports cannot deadlock) and
   * sees the writes before it. The caller commits, then calls `publish` with `changed`.
   */
  async function writeAll(
    client: Queryable,
    writes: readonly {
      namespace: string;
      layer: string;
      content: Record<string, unknown>;
      ctx: WriteContext;
    }[],
  ): Promise<{ results: WriteResult[]; changed: ResolvedHead[] }> {
    const results: WriteResult[] = [];
    const changed: ResolvedHead[] = [];
    for (const w of writes) {
      // Committed by the caller, maybe not at all: no state is held from these writes.
      deps.held.forget(w.namespace);
      let outcome: WriteOutcome | null = null;
      // Holding the namespace's lock, only a reader of it can move meanwhile: read again.
      for (let attempt = 1; !outcome && attempt <= LOCKED_ATTEMPTS; attempt++) {
        outcome = await attemptWrite(client, true, w.namespace, w.layer, () => w.content, w.ctx, "write");
      }
      if (!outcome) throw concurrentChange(w.namespace, w.layer);
      results.push(outcome.result);
      changed.push(...outcome.changed);
    }
    return { results, changed };
  }

  return {
    replace(namespace: string, layer: string, content: Record<string, unknown>, ctx: WriteContext) {
      return write(namespace, layer, () => content, ctx);
    },

    /** RFC 7396 JSON Merge Patch against the current head. */
    patch(namespace: string, layer: string, patch: Record<string, unknown>, ctx: WriteContext) {
      return write(
        namespace,
        layer,
        (head) => applyMergePatch(head?.content ?? {}, patch) as Record<string, unknown>,
        ctx,
      );
    },

    /** A new revision whose content equals revision `target`; source `rollback:<target>`. */
    rollback(namespace: string, layer: string, target: number, ctx: Omit<WriteContext, "source">) {
      return write(
        namespace,
        layer,
        async (_head, q) => {
          const found = await deps.revisions.find(q, namespace, layer, target);
          if (!found) throw revisionNotFound(namespace, layer, target, "revision");
          return found.content;
        },
        { ...ctx, source: `rollback:${target}`, message: ctx.message || `Roll back to revision ${target}` },
        "rollback",
      );
    },

    /** Content computed from the head the write read (an approved change request). */
    writeWith: write,

    writeAll,

    /** After `writeAll` committed: caches, then wake the outbox relay. */
    async publish(changed: ResolvedHead[]): Promise<void> {
      await deps.cache.replace(changed);
      if (changed.length > 0) deps.wakeOutbox();
    },
  };
}
export type WriteService = ReturnType<typeof createWriteService>;
