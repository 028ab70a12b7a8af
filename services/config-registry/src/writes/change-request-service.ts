import { randomUUID } from "node:crypto";
import { CONFIG_CHANGE_APPROVED, CONFIG_CHANGE_REJECTED, CONFIG_CHANGE_REQUESTED } from "@nexus/contracts";
import {
  type AccessScope,
  type AuditEntry,
  type Bus,
  ConflictError,
  enqueueEvents,
  ForbiddenError,
  NotFoundError,
  type Pool,
  prepareOutboxRows,
  withTransaction,
} from "@nexus/kit";
import { applyMergePatch } from "../documents/document-fns.js";
import type { Caller } from "../http/caller.js";
import type { LayerStore } from "../layers/layer-store.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { RevisionStore } from "../revisions/revision-store.js";
import { mayHoldSecrets } from "../secrets/secret-doc-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import { protectedEnvironmentsReached } from "./change-request-fns.js";
import type { ChangeRequestStore } from "./change-request-store.js";
import type { ChangeKind, ChangeRequest, ChangeRequestDto } from "./change-request-types.js";
import type { WriteService } from "./write-service.js";
import type { WriteResult } from "./write-types.js";

export interface Proposal {
  kind: ChangeKind;
  /** replace: the document; patch: the merge patch; rollback: ignored (see `revision`). */
  body: Record<string, unknown>;
  revision?: number;
  message: string;
  expectedRevision?: number | undefined;
}

/** Reading a change request needs the layer's read scope; deciding it the layer's write scope. */
const readScope = (c: Pick<ChangeRequest, "namespace" | "layer">): AccessScope => ({
  namespace: c.namespace,
  environment: c.layer === "base" ? undefined : c.layer,
});
const writeScope = (c: Pick<ChangeRequest, "namespace" | "layer">): AccessScope => ({
  namespace: c.namespace,
  environment: c.layer === "base" ? "*" : c.layer,
});

export function createChangeRequestService(deps: {
  pool: Pool;
  store: ChangeRequestStore;
  namespaces: Pick<NamespaceStore, "findByName">;
  layerStore: Pick<LayerStore, "find">;
  revisions: Pick<RevisionStore, "find">;
  layers: Pick<WriteService, "writeWith">;
  secrets: Pick<SecretService, "seal" | "reveal">;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  wakeOutbox: () => void;
  protectedEnvironments: readonly string[];
}) {
  const { pool, store } = deps;

  async function toDto(c: ChangeRequest, caller: Caller): Promise<ChangeRequestDto> {
    const reveal = caller.can("secret-reader", readScope(c));
    return {
      id: c.id,
      namespace: c.namespace,
      layer: c.layer,
      kind: c.kind,
      content: await deps.secrets.reveal(pool, c.content, reveal, c.namespace),
      baseRevision: c.baseRevision,
      message: c.message,
      author: c.author,
      status: c.status,
      createdAt: c.createdAt.toISOString(),
      decidedBy: c.decidedBy,
      decidedAt: c.decidedAt?.toISOString() ?? null,
      comment: c.comment,
      revision: c.revision,
    };
  }

  /** A request the caller may see, or 404 (as if it did not exist). */
  async function visible(id: string, caller: Caller, lock = false): Promise<ChangeRequest> {
    const c = await store.find(pool, id, { lock });
    if (!c || !caller.can("viewer", readScope(c))) {
      throw new NotFoundError("change_request_not_found", `No change request ${id}`, { field: "id" });
    }
    return c;
  }

  function assertDecidable(c: ChangeRequest, caller: Caller): void {
    if (c.status !== "pending") {
      throw new ConflictError("change_request_decided", `Change request ${c.id} was already ${c.status}.`);
    }
    if (caller.subject === c.authorSubject) {
      throw new ForbiddenError(
        "own_change_request",
        "You asked for this change; an approver other than its author must decide it.",
      );
    }
    if (!caller.can("approver", writeScope(c))) {
      throw new ForbiddenError(
        "forbidden",
        `Deciding this change needs the 'approver' role on ${c.namespace}/${c.layer}.`,
      );
    }
  }

  return {
    /**
     * The gate in front of layer writes: null when the write may go ahead (nothing protected is
     * reached, or the caller is an admin there); otherwise the pending change request it became.
     */
    async propose(
      namespace: string,
      layer: string,
      proposal: Proposal,
      caller: Caller,
    ): Promise<ChangeRequestDto | null> {
      // Cheap answers first: the hot write path of admins and unprotected overlays does no I/O here.
      if (caller.can("admin", writeScope({ namespace, layer }))) return null;
      if (layer !== "base" && !deps.protectedEnvironments.includes(layer)) return null;
      const ns = await deps.namespaces.findByName(pool, namespace);
      if (!ns) return null; // the write itself answers 404
      const reached = protectedEnvironmentsReached(layer, ns.environments, deps.protectedEnvironments);
      if (reached.length === 0) return null;

      const head = await deps.layerStore.find(pool, namespace, layer);
      const baseRevision = head?.revision ?? 0;
      if (proposal.expectedRevision !== undefined && proposal.expectedRevision !== baseRevision) {
        throw new ConflictError(
          "revision_mismatch",
          `Layer ${namespace}/${layer} is at revision ${baseRevision}, not ${proposal.expectedRevision}.`,
          { field: "If-Match" },
        );
      }
      let content: Record<string, unknown>;
      if (proposal.kind === "rollback") {
        const old = await deps.revisions.find(pool, namespace, layer, proposal.revision ?? -1);
        if (!old) {
          throw new NotFoundError(
            "revision_not_found",
            `Layer ${namespace}/${layer} has no revision ${proposal.revision}`,
            {
              field: "revision",
            },
          );
        }
        content = old.content;
      } else {
        content =
          proposal.kind === "patch"
            ? (applyMergePatch(head?.content ?? {}, proposal.body) as Record<string, unknown>)
            : proposal.body;
      }
      // Sealed now, so a pending request never holds a secret in plaintext.
      if (mayHoldSecrets(JSON.stringify(content))) {
        content = await deps.secrets.seal(pool, namespace, content, {
          trusted: head?.content,
          fromHistory: proposal.kind === "rollback",
        });
      }
      const id = randomUUID();
      const message =
        proposal.message ||
        (proposal.kind === "rollback" ? `Roll back to revision ${proposal.revision}` : "");
      const created = await withTransaction(pool, async (client) => {
        const c = await store.insert(client, {
          id,
          namespace,
          layer,
          kind: proposal.kind,
          content,
          baseRevision,
          message,
          author: caller.name,
          authorSubject: caller.subject,
        });
        await enqueueEvents(
          client,
          prepareOutboxRows(deps.bus, CONFIG_CHANGE_REQUESTED, [
            {
              schemaVersion: 1,
              changeRequestId: id,
              namespace,
              layer,
              environments: reached,
              baseRevision,
              author: caller.name,
              message,
            },
          ]),
        );
        return c;
      });
      deps.wakeOutbox();
      return toDto(created, caller);
    },

    async get(id: string, caller: Caller): Promise<ChangeRequestDto> {
      return toDto(await visible(id, caller), caller);
    },

    async list(
      filter: { namespace?: string | undefined; status?: ChangeRequest["status"] | undefined; limit: number },
      caller: Caller,
    ): Promise<ChangeRequestDto[]> {
      const rows = await store.list(pool, filter);
      const shown = rows.filter((c) => caller.can("viewer", readScope(c)));
      return Promise.all(shown.map((c) => toDto(c, caller)));
    },

    /**
     * Apply a pending request as its author's write (source `change-request:<id>`), against the
     * revision it was made on: if the layer moved since, the approval is refused (409) and the
     * request stays pending, to be rejected and asked again. Approving again after a crash between
     * the write and the decision finds the written revision instead of writing twice.
     */
    async approve(
      id: string,
      comment: string,
      caller: Caller,
      /** The approval's audit line: committed with the write when this approval writes it. */
      audit?: { entry: AuditEntry; committed: () => void },
    ): Promise<ChangeRequestDto> {
      const c = await visible(id, caller);
      assertDecidable(c, caller);
      let revision = await store.appliedRevision(pool, c);
      if (revision === null) {
        let written: WriteResult;
        try {
          written = await deps.layers.writeWith(c.namespace, c.layer, () => c.content, {
            author: c.author,
            message: c.message,
            source: `change-request:${c.id}`,
            expectedRevision: c.baseRevision,
            trustSealed: true,
            audit: audit?.entry,
          });
          if (written.changed) audit?.committed();
        } catch (err) {
          if (err instanceof ConflictError) {
            throw new ConflictError(
              "change_request_outdated",
              `${c.namespace}/${c.layer} changed since this request was made (it was written against revision ${c.baseRevision}); reject it and ask for the change again.`,
              { cause: err },
            );
          }
          throw err;
        }
        revision = written.revision;
      }
      const decided = await withTransaction(pool, async (client) => {
        const d = await store.decide(client, id, {
          status: "approved",
          decidedBy: caller.name,
          comment,
          revision,
        });
        if (!d) return null;
        await enqueueEvents(
          client,
          prepareOutboxRows(deps.bus, CONFIG_CHANGE_APPROVED, [
            {
              schemaVersion: 1,
              changeRequestId: id,
              namespace: c.namespace,
              layer: c.layer,
              author: c.author,
              decidedBy: caller.name,
              comment,
              revision: revision!,
            },
          ]),
        );
        return d;
      });
      if (!decided)
        throw new ConflictError("change_request_decided", `Change request ${id} was decided meanwhile.`);
      deps.wakeOutbox();
      return toDto(decided, caller);
    },

    async reject(id: string, comment: string, caller: Caller): Promise<ChangeRequestDto> {
      const c = await visible(id, caller);
      assertDecidable(c, caller);
      const decided = await withTransaction(pool, async (client) => {
        const d = await store.decide(client, id, {
          status: "rejected",
          decidedBy: caller.name,
          comment,
          revision: null,
        });
        if (!d) return null;
        await enqueueEvents(
          client,
          prepareOutboxRows(deps.bus, CONFIG_CHANGE_REJECTED, [
            {
              schemaVersion: 1,
              changeRequestId: id,
              namespace: c.namespace,
              layer: c.layer,
              author: c.author,
              decidedBy: caller.name,
              comment,
            },
          ]),
        );
        return d;
      });
      if (!decided)
        throw new ConflictError("change_request_decided", `Change request ${id} was decided meanwhile.`);
      deps.wakeOutbox();
      return toDto(decided, caller);
    },
  };
}
export type ChangeRequestService = ReturnType<typeof createChangeRequestService>;
