import { randomUUID } from "node:crypto";
import {
  ConflictError,
  checkHost,
  NotFoundError,
  type OutboundPolicy,
  type Pool,
  type Queryable,
  ServiceUnavailableError,
  ValidationError,
  withTransaction,
} from "@nexus/kit";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { GitAuth } from "./git-client.js";
import { boundLayersOf, redactUrl, repositoryHost, repositoryOfUrl } from "./git-source-fns.js";
import type { GitSourceStore } from "./git-source-store.js";
import type {
  CreateGitSourceBody,
  Credentials,
  GitSource,
  GitSourceDto,
  UpdateGitSourceBody,
} from "./git-source-types.js";
import type { WebhookSecrets } from "./git-webhook-fns.js";

export interface GitSourceServiceDeps {
  pool: Pool;
  store: GitSourceStore;
  namespaces: Pick<NamespaceStore, "findByName">;
  secrets: Pick<SecretService, "seal" | "reveal" | "enabled">;
  /** Loopback/private/link-local addresses git may still reach (GIT_ALLOW_ADDRESSES). */
  allow: OutboundPolicy["allow"];
}

/** A URL whose host is a literal address (or `localhost`) that git may not reach is refused when saved. */
function checkRepositoryUrl(url: string, allow: OutboundPolicy["allow"]): void {
  const host = repositoryHost(url);
  const verdict = host === null ? { ok: true as const } : checkHost(host, { allow });
  if (!verdict.ok)
    throw new ValidationError("url_not_allowed", `The repository URL is refused: ${verdict.reason}`, {
      field: "url",
    });
}

export const gitSourceNotFound = (name: string) =>
  new NotFoundError("git_source_not_found", `Git source ${name} does not exist`, { field: "name" });

export function toGitSourceDto(s: GitSource): GitSourceDto {
  return {
    id: s.id,
    name: s.name,
    provider: s.provider,
    url: redactUrl(s.url),
    repository: s.repository,
    namespaces: s.namespaces,
    environments: s.environments,
    baseBranch: s.baseBranch,
    layout: s.layout,
    hasCredentials: s.credentials !== null,
    hasWebhookSecret: s.webhookSecret !== null,
    hasSigningSecret: s.signingSecret !== null,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

type Sealable = Record<string, string | undefined>;

export function createGitSourceService(deps: GitSourceServiceDeps) {
  const { pool, store, secrets } = deps;

  /** Each value as `{"$secret": ...}`, sealed with the key namespace's data key. */
  async function seal(q: Queryable, keyNamespace: string, values: Sealable | null | undefined) {
    if (values === null || values === undefined) return null;
    if (!secrets.enabled)
      throw new ServiceUnavailableError(
        "secrets_not_configured",
        "Git credentials and webhook secrets are stored encrypted: set SECRETS_MASTER_KEYS first",
      );
    const doc: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) if (v !== undefined) doc[k] = { $secret: v };
    return secrets.seal(q, keyNamespace, doc);
  }

  async function reveal(q: Queryable, s: GitSource, sealed: Record<string, unknown> | null) {
    if (!sealed) return null;
    return (await secrets.reveal(q, sealed, true, s.keyNamespace)) as Record<string, string>;
  }

  async function checkBinding(
    q: Queryable,
    s: Pick<GitSource, "id" | "namespaces" | "environments" | "baseBranch" | "layout">,
  ) {
    for (const name of s.namespaces) {
      const ns = await deps.namespaces.findByName(q, name);
      if (!ns)
        throw new ValidationError("namespace_not_found", `Namespace ${name} does not exist`, {
          field: "namespaces",
        });
      const missing = Object.keys(s.environments).filter((e) => !ns.environments.includes(e));
      if (missing.length > 0)
        throw new ValidationError(
          "environment_not_found",
          `Namespace ${name} has no environment ${missing.join(", ")} (it has: ${ns.environments.join(", ")})`,
          { field: "environments" },
        );
    }
    const bound = boundLayersOf(s);
    const taken = await store.ownedElsewhere(q, s.id, bound);
    if (taken.length > 0) {
      const t = taken[0]!;
      throw new ConflictError(
        "layer_bound_elsewhere",
        `Layer ${t.namespace}/${t.layer} already follows Git source ${t.name}; a layer follows one source at most`,
        { field: "namespaces" },
      );
    }
    await store.replaceBoundLayers(q, s.id, bound);
  }

  async function find(q: Queryable, name: string, options: { lock?: boolean } = {}) {
    const s = await store.findByName(q, name, options);
    if (!s) throw gitSourceNotFound(name);
    return s;
  }

  return {
    find: (name: string) => find(pool, name),

    async create(body: CreateGitSourceBody, actor: string): Promise<GitSource> {
      checkRepositoryUrl(body.url, deps.allow);
      return withTransaction(pool, async (client) => {
        if (await store.findByName(client, body.name))
          throw new ConflictError("git_source_exists", `Git source ${body.name} already exists`, {
            field: "name",
          });
        const id = randomUUID();
        const keyNamespace = body.namespaces[0]!;
        const draft = {
          id,
          namespaces: body.namespaces,
          environments: body.environments,
          baseBranch: body.baseBranch,
          layout: body.layout,
        };
        // Namespaces must exist before their data key can seal anything.
        for (const name of body.namespaces)
          if (!(await deps.namespaces.findByName(client, name)))
            throw new ValidationError("namespace_not_found", `Namespace ${name} does not exist`, {
              field: "namespaces",
            });
        const source = await store.insert(client, {
          ...draft,
          name: body.name,
          provider: body.provider,
          url: body.url,
          repository: body.repository ?? repositoryOfUrl(body.url),
          keyNamespace,
          credentials: await seal(client, keyNamespace, body.credentials as Sealable | undefined),
          webhookSecret: await seal(
            client,
            keyNamespace,
            body.webhookSecret ? { value: body.webhookSecret } : null,
          ),
          signingSecret: await seal(
            client,
            keyNamespace,
            body.signingSecret ? { value: body.signingSecret } : null,
          ),
          createdBy: actor,
        });
        await checkBinding(client, source);
        return source;
      });
    },

    async update(name: string, body: UpdateGitSourceBody): Promise<GitSource> {
      if (body.url !== undefined) checkRepositoryUrl(body.url, deps.allow);
      return withTransaction(pool, async (client) => {
        const s = await find(client, name, { lock: true });
        const sealed = async (v: Sealable | null | undefined, current: Record<string, unknown> | null) =>
          v === undefined ? current : await seal(client, s.keyNamespace, v);
        const next: GitSource = {
          ...s,
          url: body.url ?? s.url,
          repository: body.repository ?? (body.url ? repositoryOfUrl(body.url) : s.repository),
          namespaces: body.namespaces ?? s.namespaces,
          environments: body.environments ?? s.environments,
          baseBranch: body.baseBranch === undefined ? s.baseBranch : body.baseBranch,
          layout: body.layout ?? s.layout,
          credentials: await sealed(body.credentials as Sealable | null | undefined, s.credentials),
          webhookSecret: await sealed(
            body.webhookSecret === undefined
              ? undefined
              : body.webhookSecret === null
                ? null
                : { value: body.webhookSecret },
            s.webhookSecret,
          ),
          signingSecret: await sealed(
            body.signingSecret === undefined
              ? undefined
              : body.signingSecret === null
                ? null
                : { value: body.signingSecret },
            s.signingSecret,
          ),
        };
        if (!next.namespaces.includes(s.keyNamespace))
          throw new ValidationError(
            "key_namespace_removed",
            `Namespace ${s.keyNamespace} keeps this source's encrypted secrets and must stay bound (delete and create the source to change it)`,
            { field: "namespaces" },
          );
        await checkBinding(client, next);
        return store.update(client, next);
      });
    },

    async remove(name: string): Promise<void> {
      const s = await find(pool, name);
      await store.remove(pool, s.id);
    },

    list: () => store.list(pool),

    /** Plaintext credentials for a fetch; never logged, never returned by the API. */
    async authOf(q: Queryable, s: GitSource): Promise<GitAuth | null> {
      const c = (await reveal(q, s, s.credentials)) as Partial<Credentials> | null;
      return c ? { username: c.username, token: c.token, sshPrivateKey: c.sshPrivateKey } : null;
    },

    async webhookSecretsOf(q: Queryable, s: GitSource): Promise<WebhookSecrets> {
      return {
        webhookSecret: (await reveal(q, s, s.webhookSecret))?.value ?? null,
        signingSecret: (await reveal(q, s, s.signingSecret))?.value ?? null,
      };
    },
  };
}
export type GitSourceService = ReturnType<typeof createGitSourceService>;
