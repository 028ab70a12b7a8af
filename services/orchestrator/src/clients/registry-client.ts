import {
  ConfigGetReply,
  ConfigSetReply,
  configGetSubject,
  configSetSubject,
  POLICY_CHECK_COMMAND,
  PolicyCheckReply,
  type PolicyViolation,
  RolloutGateReply,
  rolloutGateSubject,
} from "@nexus/contracts";
import { AppError, type Bus } from "@nexus/kit";
import type { HttpJsonClient } from "./http-json.js";

export type JsonObject = Record<string, unknown>;

export interface LayerState {
  /** The layer's head revision; 0 when the layer was never written. */
  revision: number;
  content: JsonObject;
  /**
   * Where the layer itself stores a secret (the registry's `secretPaths`); absent where it was not
   * read (a run's kept content) — callers then ask the resolved document.
   */
  secretPaths?: string[];
}

export type SetResult = { ok: true; revision: number } | { ok: false; conflict: boolean; message: string };

const secretPathsOf = (got: { secretPaths?: string[] }) =>
  Array.isArray(got.secretPaths) ? { secretPaths: got.secretPaths } : {};

const refused = (what: string, e: { statusCode: number; code: string; message: string }) =>
  new AppError(e.statusCode >= 500 ? 503 : 422, e.code, `${what}: ${e.message}`);

/**
 * The registry, only through its public interfaces: layer reads over HTTP (a revision's content,
 * the schema), resolved documents and writes over NATS (`nexus.config.cmd.get|set`), never its tables.
 */
export function createRegistryClient(deps: {
  http: HttpJsonClient;
  bus: Pick<Bus, "requestCommand">;
  timeoutMs: number;
}) {
  const { http, bus, timeoutMs } = deps;
  /** Secret pointers per document, by hash: asked again with `ifNoneMatch`, an unchanged one costs no content. */
  const pointersKnown = new Map<string, { hash: string; pointers: string[] }>();
  const path = (ns: string, layer: string) =>
    `/v1/namespaces/${encodeURIComponent(ns)}/layers/${encodeURIComponent(layer)}`;

  /** One revision, checked to belong to this layer; null when there is no such revision. */
  async function layerAt(namespace: string, layer: string, revision: number): Promise<LayerState | null> {
    const got = await http.get<{ layer: string; content: JsonObject; secretPaths?: string[] }>(
      `${path(namespace, layer)}/revisions/${revision}`,
      { allow404: true },
    );
    return got && got.layer === layer ? { revision, content: got.content, ...secretPathsOf(got) } : null;
  }

  return {
    async layer(namespace: string, layer: string): Promise<LayerState> {
      const got = await http.get<{ revision: number; content: JsonObject; secretPaths?: string[] }>(
        path(namespace, layer),
        { allow404: true },
      );
      return got
        ? { revision: got.revision, content: got.content, ...secretPathsOf(got) }
        : { revision: 0, content: {}, secretPaths: [] };
    },

    layerAt,

    /** One revision's content, checked to belong to this layer; null when there is no such revision. */
    async layerRevision(namespace: string, layer: string, revision: number): Promise<JsonObject | null> {
      return (await layerAt(namespace, layer, revision))?.content ?? null;
    },

    async schema(namespace: string): Promise<JsonObject | null> {
      const got = await http.get<{ schema: JsonObject }>(
        `/v1/namespaces/${encodeURIComponent(namespace)}/schema`,
        { allow404: true },
      );
      return got?.schema ?? null;
    },

    /** The namespaces this token may read, with their environments. */
    async namespaces(): Promise<{ name: string; environments: string[] }[]> {
      const out: { name: string; environments: string[] }[] = [];
      let after: string | null = null;
      do {
        const q: URLSearchParams = new URLSearchParams({ limit: "500", ...(after ? { after } : {}) });
        const page: { items: { name: string; environments: string[] }[]; next: string | null } | null =
          await http.get(`/v1/namespaces?${q}`);
        for (const n of page?.items ?? []) out.push({ name: n.name, environments: n.environments });
        after = page?.next ?? null;
      } while (after);
      return out;
    },

    /** The name of the Git source with this id; null when the registry has none (deleted since). */
    async gitSourceName(id: string): Promise<string | null> {
      // The registry addresses sources by name; the push event carries the id.
      const got = await http.get<{ items: { id: string; name: string }[] }>("/v1/git-sources");
      return got?.items.find((s) => s.id === id)?.name ?? null;
    },

    /** The resolved document as stored (secrets redacted) and the pointers of its secrets. */
    async resolved(
      namespace: string,
      environment: string,
    ): Promise<{ revision: number; content: JsonObject; secretPointers: string[] }> {
      const reply = await bus.requestCommand(
        configGetSubject({ environment, namespace }),
        { schemaVersion: 1, namespace, environment },
        ConfigGetReply,
        timeoutMs,
      );
      if (!reply.ok) throw refused(`reading ${namespace}/${environment}`, reply.error);
      if (reply.notModified) throw new AppError(503, "registry_unavailable", "unexpected notModified reply");
      return {
        revision: reply.revision,
        content: reply.content,
        secretPointers: Object.keys(reply.secretDigests ?? {}),
      };
    },

    /** The JSON pointers of the secrets in the resolved document (what a promotion must not copy). */
    async secretPointers(namespace: string, environment: string): Promise<string[]> {
      const key = `${namespace}\u0000${environment}`;
      const known = pointersKnown.get(key);
      const reply = await bus.requestCommand(
        configGetSubject({ environment, namespace }),
        { schemaVersion: 1, namespace, environment, ...(known ? { ifNoneMatch: known.hash } : {}) },
        ConfigGetReply,
        timeoutMs,
      );
      if (!reply.ok) throw refused(`reading ${namespace}/${environment}`, reply.error);
      if (reply.notModified && known) return known.pointers;
      if (reply.notModified) throw new AppError(503, "registry_unavailable", "unexpected notModified reply");
      const pointers = Object.keys(reply.secretDigests ?? {});
      if (pointersKnown.size > 1_000) pointersKnown.clear();
      pointersKnown.set(key, { hash: reply.hash, pointers });
      return pointers;
    },

    /** Write a layer only if it is still at `expectedRevision` (a conflict is reported, not thrown). */
    async setLayer(input: {
      namespace: string;
      layer: string;
      content: JsonObject;
      expectedRevision: number;
      message: string;
      author: string;
    }): Promise<SetResult> {
      const reply = await bus.requestCommand(
        configSetSubject(input),
        { schemaVersion: 1, ...input },
        ConfigSetReply,
        timeoutMs,
      );
      if (reply.ok) return { ok: true, revision: reply.revision };
      if (reply.error.statusCode === 409 || reply.error.statusCode === 412)
        return { ok: false, conflict: true, message: reply.error.message };
      if (reply.error.statusCode >= 500)
        throw refused(`writing ${input.namespace}/${input.layer}`, reply.error);
      return { ok: false, conflict: false, message: reply.error.message };
    },

    /**
     * Open or close run `runId`'s rollout gate on (namespace, environment): while one is open the
     * place's `config.changed` events ask SDKs to check with this service before applying.
     * Idempotent; closing on a namespace that is gone is done.
     */
    async rolloutGate(gate: { namespace: string; environment: string; runId: string; open: boolean }) {
      const reply = await bus.requestCommand(
        rolloutGateSubject(gate),
        { schemaVersion: 1, ...gate },
        RolloutGateReply,
        timeoutMs,
      );
      if (reply.ok || (!gate.open && reply.error.code === "namespace_not_found")) return;
      throw refused(
        `${gate.open ? "opening" : "closing"} the rollout gate on ${gate.namespace}/${gate.environment}`,
        reply.error,
      );
    },

    /** The drift-detector's policy check of a would-be resolved document. */
    async checkPolicies(
      namespace: string,
      environment: string,
      document: JsonObject,
    ): Promise<{ evaluated: number; violations: PolicyViolation[] }> {
      const reply = await bus.requestCommand(
        POLICY_CHECK_COMMAND,
        { schemaVersion: 1, namespace, environment, document },
        PolicyCheckReply,
        timeoutMs,
      );
      if (!reply.ok) throw refused("the policy check", reply.error);
      return { evaluated: reply.policiesEvaluated, violations: reply.violations };
    },
  };
}
export type RegistryClient = ReturnType<typeof createRegistryClient>;
