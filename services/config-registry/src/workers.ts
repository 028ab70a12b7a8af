import { AUTH_TOKEN_REVOKED, CONFIG_CHANGED } from "@nexus/contracts";
import type { AuditLog, Bus, OutboxRelay, Pool, Stoppable } from "@nexus/kit";
import { serveConfigCommands } from "./commands/config-command.js";
import { serveConfigReadCommands } from "./commands/config-read-command.js";
import { serveRolloutGates } from "./commands/rollout-gate-command.js";
import { serveGitResync } from "./git-sources/git-command.js";
import { consumeGitPushes } from "./git-sources/git-sync.js";
import type { createOwnChanges, ResolveMemoryCache } from "./resolve/resolve-memory-cache.js";
import { serveTokenIntrospection } from "./tokens/token-command.js";
import type { WriteStateCache } from "./writes/write-state-cache.js";

type Commands = Parameters<typeof serveConfigCommands>[0];
type ReadCommands = Parameters<typeof serveConfigReadCommands>[0];
type Introspection = Parameters<typeof serveTokenIntrospection>[0];
type GitPushes = Parameters<typeof consumeGitPushes>[0];
type GitResyncs = Parameters<typeof serveGitResync>[0];
type RolloutGates = Parameters<typeof serveRolloutGates>[0];

/**
 * What the registry runs besides answering HTTP: the outbox relay, the NATS commands, other
 * instances' changes evicting this instance's in-memory state, token revocations, Git pushes and
 * the Git reconcile. Nothing runs until `start()`.
 */
export function createRegistryWorkers(deps: {
  bus: Bus;
  pool: Pool;
  relay: OutboxRelay;
  /** Run the outbox relay here (OUTBOX_RELAY_ENABLED). */
  outboxRelay: boolean;
  busMetrics: { start(): void; stop(): void };
  memory: Pick<ResolveMemoryCache, "invalidate">;
  heldWriteStates: Pick<WriteStateCache, "forget">;
  ownChanges: Pick<ReturnType<typeof createOwnChanges>, "heard">;
  commandWrites: Commands["writes"];
  namespaces: RolloutGates["namespaces"];
  logger: RolloutGates["logger"];
  reads: ReadCommands["reads"];
  history: ReadCommands["history"];
  tokens: Introspection["tokens"] & { evict(tokenId: string): void };
  gitStore: GitPushes["store"];
  gitSources: GitResyncs["sources"];
  gitImports: GitPushes["imports"];
  gitReconciler: { start(): Promise<void>; stop(): Promise<void> };
  /** Run the Git reconcile (under a lease); tests call `reconciler.runOnce()` instead. */
  reconcile: boolean;
  audit: Pick<AuditLog, "close">;
}) {
  const { bus } = deps;
  let running: Stoppable[] = [];
  return {
    /**
     * Streams exist, the outbox relay runs (unless disabled), NATS commands are answered, and
     * other instances' changes evict this instance's in-memory resolved documents.
     */
    async start() {
      deps.busMetrics.start();
      await bus.ensureStreams();
      running.push(
        bus.subscribe(CONFIG_CHANGED, { skipId: deps.ownChanges.heard }, (event) => {
          deps.memory.invalidate(event.data.namespace, event.data.environment, event.data.hash);
          // Another instance wrote it: a held state would only lose its swap now.
          deps.heldWriteStates.forget(event.data.namespace);
        }),
      );
      if (deps.outboxRelay) await deps.relay.start();
      running.push(
        serveConfigCommands({ bus, writes: deps.commandWrites }),
        serveConfigReadCommands({ bus, reads: deps.reads, history: deps.history }),
        serveRolloutGates({
          bus,
          pool: deps.pool,
          namespaces: deps.namespaces,
          logger: deps.logger,
          // This instance's held state of the namespace would only lose its swap now.
          forgetHeld: (namespace) => deps.heldWriteStates.forget(namespace),
        }),
        serveTokenIntrospection({ bus, tokens: deps.tokens }),
        bus.subscribe(AUTH_TOKEN_REVOKED, {}, (event) => deps.tokens.evict(event.data.tokenId)),
        await consumeGitPushes({ bus, pool: deps.pool, store: deps.gitStore, imports: deps.gitImports }),
        serveGitResync({ bus, sources: deps.gitSources, imports: deps.gitImports }),
      );
      if (deps.reconcile) await deps.gitReconciler.start();
    },
    async stop() {
      deps.busMetrics.stop();
      for (const worker of running) await worker.stop();
      running = [];
      await deps.gitReconciler.stop();
      await deps.relay.stop();
      await deps.audit.close();
    },
  };
}
