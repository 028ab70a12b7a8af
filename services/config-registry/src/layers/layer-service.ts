import type { Pool } from "@nexus/kit";
import { contentHash } from "../documents/document-fns.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import { holdsSecrets, secretPointers } from "../secrets/secret-doc-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { RevealOption } from "../secrets/secret-types.js";
import type { LayerStore } from "./layer-store.js";
import type { LayerRead } from "./layer-types.js";

/** Reading a layer as written; every change goes through `writes/`. */
export function createLayerService(deps: {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  layers: Pick<LayerStore, "find">;
  secrets: Pick<SecretService, "reveal">;
}) {
  return {
    /** The layer as written; secrets `"***"` unless `revealSecrets`. */
    async get(namespace: string, layer: string, options: RevealOption = {}): Promise<LayerRead> {
      const ns = await deps.namespaces.findByName(deps.pool, namespace);
      if (!ns) throw namespaceNotFound(namespace);
      assertLayerOf(ns, layer);
      const head = await deps.layers.find(deps.pool, namespace, layer);
      if (!head)
        return {
          namespace,
          layer,
          revision: 0,
          content: {},
          hash: contentHash({}),
          updatedAt: "",
          secretPaths: [],
        };
      if (!holdsSecrets(head.content)) return { ...head, secretPaths: [] };
      const content = await deps.secrets.reveal(
        deps.pool,
        head.content,
        options.revealSecrets ?? false,
        namespace,
      );
      return { ...head, content, secretPaths: secretPointers(head.content) };
    },
  };
}
export type LayerService = ReturnType<typeof createLayerService>;
