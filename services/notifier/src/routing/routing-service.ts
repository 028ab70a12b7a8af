import {
  ConflictError,
  checkHost,
  checkUrl,
  isSealed,
  NotFoundError,
  type OutboundPolicy,
  type Pool,
  type SealingKeys,
  ValidationError,
} from "@nexus/kit";
import { findConfigProblem, redactConfig, restoreSecrets } from "./routing-fns.js";
import type { RoutingStore, RoutingVersion } from "./routing-store.js";
import type { InhibitRule, Receiver, Route, RoutingConfig } from "./routing-types.js";
import { ReceiverSecretError, sealConfigSecrets, sealedLookingInput } from "./secret-fns.js";

export interface RoutingServiceDeps {
  pool: Pool;
  store: RoutingStore;
  policy: OutboundPolicy;
  /** Receiver secrets are sealed with these before they are stored. */
  keys: SealingKeys;
  /** How long a cached config is trusted before asking Postgres whether another instance saved a newer one. */
  cacheMs?: number;
  /** After a new version is stored (what is consumed may change with it); must not throw. */
  onSaved?: () => Promise<void>;
}

export interface ChangeMeta {
  author: string;
  comment?: string | undefined;
  /** The version the caller read (If-Match); a newer one in between is a conflict. */
  expectedVersion?: number | undefined;
}

export const EMPTY_CONFIG: RoutingConfig = { route: {}, receivers: [], inhibitRules: [] };

export function createRoutingService(deps: RoutingServiceDeps) {
  const { pool, store } = deps;
  const cacheMs = deps.cacheMs ?? 1_000;
  let cached: { at: number; version: RoutingVersion | null } | null = null;

  async function current(): Promise<RoutingVersion | null> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.version;
    const latest = await store.latestVersionNumber(pool);
    if (cached && (cached.version?.version ?? 0) === latest) {
      cached = { at: Date.now(), version: cached.version };
      return cached.version;
    }
    const version = latest === 0 ? null : await store.latest(pool);
    cached = { at: Date.now(), version };
    return version;
  }

  /** Validate and store a whole new config as the next version. */
  async function save(next: RoutingConfig, meta: ChangeMeta): Promise<RoutingVersion> {
    const before = await store.latest(pool);
    const beforeVersion = before?.version ?? 0;
    if (meta.expectedVersion !== undefined && meta.expectedVersion !== beforeVersion) {
      throw new ConflictError(
        "version_conflict",
        `the routing config is at version ${beforeVersion}, not ${meta.expectedVersion}`,
        {
          field: "If-Match",
        },
      );
    }
    const restored = restoreSecrets(next, before?.config ?? null);
    if ("problem" in restored)
      throw new ValidationError("invalid_routing", restored.problem.message, {
        field: restored.problem.field,
      });
    const config = restored.config;
    const problem = findConfigProblem(config) ?? receiverUrlProblem(config.receivers, deps.policy);
    if (problem) throw new ValidationError("invalid_routing", problem.message, { field: problem.field });
    const version = {
      version: beforeVersion + 1,
      config: sealed(config),
      author: meta.author,
      comment: meta.comment ?? "",
    };
    if (!(await store.insert(pool, version))) {
      throw new ConflictError(
        "version_conflict",
        "another change to the routing config was saved at the same time; read it again",
      );
    }
    cached = null;
    await deps.onSaved?.();
    return { ...version, createdAt: new Date().toISOString() };
  }

  /**
   * The config with every secret sealed under the active key. A stored value that no longer opens
   * (its key was removed before a rollback to it, or it was tampered with) refuses the save.
   */
  function sealed(config: RoutingConfig): RoutingConfig {
    try {
      return sealConfigSecrets(config, deps.keys);
    } catch (err) {
      if (!(err instanceof ReceiverSecretError)) throw err;
      const i = config.receivers.findIndex((r) => r.name === err.receiver);
      throw new ValidationError("secret_undecryptable", `${err.message}; give the secret again`, {
        field: `receivers.${i}.${err.field}`,
      });
    }
  }

  /** Secrets people send are plaintext; one shaped like a sealed value would never open. */
  function refuseSealedInput(config: Pick<RoutingConfig, "receivers">): void {
    const field = sealedLookingInput(config);
    if (field)
      throw new ValidationError("invalid_routing", "a secret may not start with nxs1: (the sealed form)", {
        field,
      });
  }

  const base = async () => (await store.latest(pool))?.config ?? EMPTY_CONFIG;
  const redacted = (v: RoutingVersion): RoutingVersion => ({ ...v, config: redactConfig(v.config) });

  return {
    /** The config in force, with secrets (for routing and sending only; never returned by the API). */
    current,
    async currentRedacted(): Promise<RoutingVersion> {
      const v = await store.latest(pool);
      return v
        ? redacted(v)
        : { version: 0, config: EMPTY_CONFIG, author: "", comment: "", createdAt: new Date(0).toISOString() };
    },
    async version(n: number): Promise<RoutingVersion> {
      const v = await store.get(pool, n);
      if (!v)
        throw new NotFoundError("version_not_found", `routing version ${n} does not exist`, {
          field: "version",
        });
      return redacted(v);
    },
    async history(limit: number, before?: number): Promise<RoutingVersion[]> {
      return (await store.list(pool, limit, before)).map(redacted);
    },
    async replace(config: RoutingConfig, meta: ChangeMeta) {
      refuseSealedInput(config);
      return redacted(await save(config, meta));
    },
    async putRoute(route: Route, meta: ChangeMeta) {
      return redacted(await save({ ...(await base()), route }, meta));
    },
    async putInhibitRules(inhibitRules: InhibitRule[], meta: ChangeMeta) {
      return redacted(await save({ ...(await base()), inhibitRules }, meta));
    },
    async putReceiver(receiver: Receiver, meta: ChangeMeta) {
      refuseSealedInput({ receivers: [receiver] });
      const config = await base();
      const receivers = [...config.receivers.filter((r) => r.name !== receiver.name), receiver];
      return redacted(await save({ ...config, receivers }, meta));
    },
    async deleteReceiver(name: string, meta: ChangeMeta) {
      const config = await base();
      if (!config.receivers.some((r) => r.name === name)) {
        throw new NotFoundError("receiver_not_found", `no receiver named ${name}`, { field: "name" });
      }
      return redacted(
        await save({ ...config, receivers: config.receivers.filter((r) => r.name !== name) }, meta),
      );
    },
    /** Back to an earlier version's content, as a new version. */
    async rollback(to: number, meta: ChangeMeta) {
      const old = await store.get(pool, to);
      if (!old)
        throw new NotFoundError("version_not_found", `routing version ${to} does not exist`, {
          field: "version",
        });
      return redacted(
        await save(old.config, { ...meta, comment: meta.comment || `rollback to version ${to}` }),
      );
    },
  };
}
export type RoutingService = ReturnType<typeof createRoutingService>;

function receiverUrlProblem(receivers: readonly Receiver[], policy: OutboundPolicy) {
  for (const [i, r] of receivers.entries()) {
    const urls: [string, string][] =
      r.type === "slack"
        ? [["webhookUrl", r.webhookUrl]]
        : r.type === "pagerduty"
          ? [["url", r.url]]
          : r.type === "webhook"
            ? [["url", r.url]]
            : [];
    for (const [field, url] of urls) {
      // A sealed value was checked when it was saved; only values given now are checked here.
      if (isSealed(url)) continue;
      const v = checkUrl(url, policy);
      if (!v.ok) return { field: `receivers.${i}.${field}`, message: `receiver ${r.name}: ${v.reason}` };
    }
    if (r.type === "email") {
      // The SMTP host is resolved and checked again when connecting; a literal address is refused now.
      const v = checkHost(r.smtp.host, policy);
      if (!v.ok) return { field: `receivers.${i}.smtp.host`, message: `receiver ${r.name}: ${v.reason}` };
    }
  }
  return null;
}
