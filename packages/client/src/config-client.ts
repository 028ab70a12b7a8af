import type { NatsConnection } from "@nats-io/transport-node";
import type { ConfigChanged, InstanceResyncCommand, RolloutProgressed } from "@nexus/contracts";
import type { Context } from "@opentelemetry/api";
import { offerChange } from "./apply-change.js";
import { nextCheckDelay } from "./backoff.js";
import { ChangeTrace } from "./change-trace.js";
import { isTransient, NexusConfigError, reasonOf } from "./errors.js";
import type { InstanceReports } from "./instance-reports.js";
import type { CacheWriter } from "./last-known-good.js";
import type { ConfigLogger } from "./logger.js";
import type { NatsLink } from "./nats-link.js";
import { type Watcher, watchNats } from "./nats-watcher.js";
import type { Settings } from "./options.js";
import type { RegistryReader, ResolvedDocument } from "./registry-reader.js";
import type { RolloutGate } from "./rollout-gate.js";
import { RolloutHold } from "./rollout-hold.js";
import { assertHash } from "./startup.js";
import { subjectsFor } from "./subjects.js";
import { decideOnChange, decideOnFetched, newest, type Position, reached } from "./sync-decisions.js";
import { createSyncQueue, type SyncJob, type SyncQueue } from "./sync-queue.js";
import type { ChangeListener, ConfigSource, NexusConfig, Rejection } from "./types.js";

export interface Held<T> {
  document: ResolvedDocument;
  value: T;
  source: ConfigSource;
}

/** What the client works with; connectConfig builds them. */
export interface ClientDeps<T> {
  settings: Settings<T>;
  instanceId: string;
  reader: RegistryReader;
  nats: NatsLink;
  reports: InstanceReports;
  cache: CacheWriter;
  /** Asks whether a wave rollout holds a newer revision; absent: every revision is applied. */
  rollout?: RolloutGate | undefined;
  /** Lets go of the OpenTelemetry SDK the client started for itself (flushed by the last one). */
  releaseTracing?: (() => Promise<void>) | undefined;
}

/** While a rollout holds a revision, look again this often even if its release event is missed. */
const HELD_RECHECK_MS = 15_000;

/** Reads that lag an announcement are retried this many times before waiting for the next poll. */
const STALE_READ_RETRIES = 8;

/** The running client; built by connectConfig once the first config is in hand. */
export class ConfigClient<T> implements NexusConfig<T> {
  readonly service: string;
  readonly instanceId: string;
  private held: Held<T>;
  private seen: Position;
  private target: Position | undefined;
  /** The trace a change's apply and ack continue (its receipt's), and the running pass's span. */
  private readonly trace: ChangeTrace;
  private rejected: Rejection | undefined;
  private readonly hold: RolloutHold;
  private readonly listeners = new Set<ChangeListener<T>>();
  private readonly queue: SyncQueue;
  private readonly log: ConfigLogger;
  private readonly reports: InstanceReports;
  private readonly cache: CacheWriter;
  private readonly releaseTracing: (() => Promise<void>) | undefined;
  /** Resync requests a failed read could not serve; the retry serves them. */
  private unservedResyncs: (string | undefined)[] = [];
  private watcher: Watcher | undefined;
  private readFailures = 0;
  private staleReads = 0;
  private nextCheck: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * Syncs wait for start(): an announcement heard while the first config is being put to work
   * (`applyInitial`) is applied after it, and acked after the initial ack.
   */
  private openGate!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.openGate = resolve;
  });

  private readonly settings: Settings<T>;
  private readonly reader: RegistryReader;
  private readonly nats: NatsLink;

  constructor(deps: ClientDeps<T>, initial: Held<T>) {
    this.settings = deps.settings;
    this.reader = deps.reader;
    this.nats = deps.nats;
    this.reports = deps.reports;
    this.cache = deps.cache;
    this.releaseTracing = deps.releaseTracing;
    const { namespace, environment } = deps.settings;
    this.trace = new ChangeTrace({
      service: deps.settings.service,
      instanceId: deps.instanceId,
      namespace,
      environment,
    });
    this.service = deps.settings.service;
    this.instanceId = deps.instanceId;
    this.log = deps.settings.logger;
    this.hold = new RolloutHold(deps.rollout, this.log);
    this.held = initial;
    this.seen = initial.document;
    if (deps.settings.onChange) this.listeners.add(deps.settings.onChange);
    this.queue = createSyncQueue(async (job) => {
      await this.gate;
      return this.sync(job);
    });
  }

  get(): T {
    return this.held.value;
  }
  get revision(): number {
    return this.held.document.revision;
  }
  get hash(): string {
    return this.held.document.hash;
  }
  get source(): ConfigSource {
    return this.held.source;
  }
  get lastRejected(): Rejection | undefined {
    return this.rejected;
  }
  /** The newer revision a wave rollout holds back from this instance, if any. */
  get heldRevision(): number | undefined {
    return this.hold.heldRevision;
  }

  /** What heartbeats report. */
  snapshot(): { document: ResolvedDocument; status: ConfigSource; rejected: Rejection | undefined } {
    return { document: this.held.document, status: this.held.source, rejected: this.rejected };
  }

  on(_event: "change", listener: ChangeListener<T>): this {
    this.listeners.add(listener);
    return this;
  }
  off(_event: "change", listener: ChangeListener<T>): this {
    this.listeners.delete(listener);
    return this;
  }

  async refresh(): Promise<void> {
    if (this.closed) throw new NexusConfigError("closed", "this config client was closed");
    const outcome = await this.queue.schedule({ reason: "refresh" });
    if (outcome !== undefined) throw outcome;
  }

  /** Subscriptions before anything else, so no announcement falls between the first read and them. */
  attachNats(nc: NatsConnection): void {
    if (this.closed || this.watcher) return;
    const prefix = this.settings.subjectPrefix;
    this.watcher = watchNats({
      nc,
      subjects: subjectsFor(prefix, this.settings),
      logger: this.log,
      identity: this.trace.identity,
      onChange: (event, eventId, trace) => this.onChange(event, eventId, trace),
      onResync: (command) => this.onResync(command),
      onRollout: (event) => this.onRollout(event),
      onReconnect: () => void this.queue.schedule({ reason: "reconnect" }),
    });
    this.reports.attach(nc);
  }

  /**
   * After the first config: ack it, start heartbeats and the poll/retry timer, persist it. The
   * ack goes first, before anything awaits, so no change can be acked ahead of the initial load.
   */
  async start(liveError: unknown): Promise<void> {
    this.ack("applied", this.held.document, "initial");
    this.openGate();
    this.log.info(
      { revision: this.revision, hash: this.hash, source: this.source, instanceId: this.instanceId },
      this.source === "live"
        ? "nexus-client: running config from Nexus"
        : "nexus-client: running the last-known-good config (cached revision)",
    );
    if (liveError !== undefined) this.readFailures = 1;
    this.reports.startHeartbeats();
    this.armNextCheck();
    // A change announced between the first read and the subscription would otherwise wait for
    // the next poll; one conditional read (usually a 304) closes that window.
    if (this.watcher && this.held.source === "live") void this.queue.schedule({ reason: "startup" });
    if (this.held.source === "live") await this.cache.write(this.held.document);
  }

  /** NATS came up after start-up: subscribe, report, and catch up on what was missed. */
  lateAttach(nc: NatsConnection): void {
    this.attachNats(nc);
    void this.reports.heartbeat();
    void this.queue.schedule({ reason: "reconnect" });
  }

  /**
   * Start-up failed after NATS was attached: report the refused first config (when that was the
   * failure, with the full reason), flush, and let go of everything. The client was never handed out.
   */
  async abandon(rejectedReason?: string): Promise<void> {
    this.closed = true;
    this.openGate();
    this.watcher?.stop();
    if (rejectedReason) {
      this.rejected = { revision: this.revision, hash: this.hash, reason: rejectedReason };
      this.ack("rejected", this.held.document, "initial", rejectedReason);
    }
    await this.reports.stop(false);
    await this.nats.close();
    await this.releaseTracing?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.openGate();
    clearTimeout(this.nextCheck);
    this.watcher?.stop();
    await this.queue.idle();
    await this.reports.stop(true);
    await this.cache.idle();
    await this.nats.close();
    this.log.info({ instanceId: this.instanceId }, "nexus-client: closed");
    await this.releaseTracing?.();
  }

  private onChange(event: ConfigChanged, eventId: string, receipt: Context): void {
    if (this.closed) return;
    // Every announcement, also of a revision this instance has read already: whether a rollout
    // can hold that revision is decided by it (RolloutHold).
    this.hold.noteChange(event);
    const decision = decideOnChange(this.held.document, this.seen, event);
    ChangeTrace.decided(receipt, decision.action);
    const at = { eventId, revision: event.revision, hash: event.hash, trigger: event.trigger };
    if (decision.action === "ignore") {
      this.log.debug({ ...at, reason: decision.reason }, "nexus-client: config.changed needs nothing");
      return;
    }
    if (decision.gap) {
      this.log.info(
        { ...at, known: this.seen, previousRevision: event.previousRevision },
        "nexus-client: missed at least one config.changed; fetching the latest",
      );
    }
    this.trace.received(event.revision, receipt);
    this.seen = event;
    this.target = this.target ? newest(this.target, event) : event;
    this.staleReads = 0;
    void this.queue.schedule({ reason: "event" });
  }

  private onResync(command: InstanceResyncCommand): void {
    if (this.closed) return;
    if (command.service && command.service !== this.service) return;
    if (command.instanceId && command.instanceId !== this.instanceId) return;
    this.log.info(
      { requestId: command.requestId, requestedBy: command.requestedBy, reason: command.reason },
      "nexus-client: resync requested",
    );
    void this.queue.schedule({ reason: "resync", resyncRequestId: command.requestId });
  }

  /** One pass, traced when it serves an announced change or a resync (ChangeTrace.run). */
  private sync(job: SyncJob): Promise<unknown> {
    if (this.closed) return Promise.resolve(undefined);
    return this.trace.run(job.reasons, job.resyncs.length > 0, () => this.syncPass(job));
  }

  /** One pass: read (conditionally unless forced), decide, apply; then plan the next check. */
  private async syncPass(job: SyncJob): Promise<unknown> {
    if (this.closed) return undefined;
    const forced = job.resyncs.length > 0;
    try {
      // Conditional even when forced: a 304 is all a resync of unchanged content needs, and the
      // registry answers conditional reads from its shared caches, never a per-instance one.
      // The announced version too, when it is not what this instance holds: the registry can
      // answer it from memory.
      const announced = this.target && this.target.hash !== this.hash ? this.target : undefined;
      const result = await this.reader.read(this.hash, announced);
      if (result.kind === "document") assertHash(result.document);
      this.readFailures = 0;
      if (result.kind === "not-modified") {
        const read = { hash: result.hash, revision: result.revision ?? this.revision };
        this.trace.outcome("unchanged", read.revision);
        await this.sameContent(read.revision, job);
        this.afterRead(read);
        return undefined;
      }
      const doc = result.document;
      this.seen = newest(this.seen, doc);
      const decision = decideOnFetched(this.held.document, doc, this.rejected, forced);
      this.trace.outcome(decision, doc.revision);
      if (decision === "unchanged") await this.sameContent(doc.revision, job);
      else if (decision === "apply") {
        if (await this.hold.holds(this.nats.nc, doc.revision, this.revision)) {
          this.trace.outcome("held", doc.revision);
          await this.sameContent(this.revision, job);
        } else await this.apply(doc, job);
      } else
        this.log.debug(
          { revision: doc.revision, hash: doc.hash, decision },
          "nexus-client: read needs nothing",
        );
      this.afterRead(doc);
      return undefined;
    } catch (err) {
      this.readFailures += 1;
      const level = this.readFailures === 1 ? "warn" : "debug";
      this.log[level](
        { err: reasonOf(err), failures: this.readFailures, transport: this.reader.transport },
        isTransient(err)
          ? "nexus-client: could not read from Nexus; keeping the current config and retrying"
          : "nexus-client: Nexus refused the read; keeping the current config",
      );
      // A resync that could not be served now is served by the retry.
      this.unservedResyncs.push(...job.resyncs);
      return err;
    } finally {
      this.armNextCheck();
    }
  }

  /**
   * Nexus has the content the instance runs. Nothing reaches the handlers, but leaving the cache,
   * running it under a newer revision, or answering a resync is each worth an ack.
   */
  private async sameContent(revision: number, job: SyncJob): Promise<void> {
    const wasCache = this.held.source === "cache";
    const newerRevision = revision > this.revision;
    if (newerRevision || wasCache) {
      this.held = { ...this.held, source: "live", document: { ...this.held.document, revision } };
      if (this.rejected && this.rejected.revision <= revision) this.rejected = undefined;
      await this.cache.write(this.held.document);
    }
    if (wasCache) {
      this.log.info(
        { revision, hash: this.hash },
        "nexus-client: Nexus is back and has the cached config; live again",
      );
    }
    const trigger = wasCache ? "recovered" : "change";
    if (job.resyncs.length > 0) {
      for (const id of job.resyncs) this.ack("applied", this.held.document, "resync", undefined, id);
    } else if (wasCache || newerRevision) {
      this.ack("applied", this.held.document, trigger);
    }
  }

  private async apply(doc: ResolvedDocument, job: SyncJob): Promise<void> {
    const trigger = job.resyncs.length > 0 ? "resync" : this.held.source === "cache" ? "recovered" : "change";
    const resyncIds = job.resyncs.length > 0 ? job.resyncs : [undefined];
    const current = { content: this.held.document.content, value: this.held.value };
    const outcome = await offerChange(this.settings.schema, this.listeners, current, doc);
    if (outcome.status === "applied") {
      this.held = { document: doc, value: outcome.value, source: "live" };
      if (this.rejected && this.rejected.revision <= doc.revision) this.rejected = undefined;
      await this.cache.write(doc);
      const at = { revision: doc.revision, hash: doc.hash, changedPaths: outcome.changedPaths, trigger };
      this.trace.outcome("applied", doc.revision);
      this.log.info(at, "nexus-client: applied");
      for (const id of resyncIds) this.ack("applied", doc, trigger, undefined, id);
      return;
    }
    this.trace.outcome("rejected", doc.revision);
    this.rejected = { revision: doc.revision, hash: doc.hash, reason: outcome.reason };
    this.log.warn(
      { revision: doc.revision, hash: doc.hash, reason: outcome.reason, keeping: this.revision },
      "nexus-client: rejected a config; keeping the one in use",
    );
    for (const id of resyncIds) this.ack("rejected", doc, trigger, outcome.reason, id);
  }

  /** A wave of a rollout this instance waits on may have been released: look again. */
  private onRollout(event: RolloutProgressed): void {
    if (this.closed || this.hold.heldRevision === undefined || event.status === "started") return;
    void this.queue.schedule({ reason: "rollout" });
  }

  /** Did this read catch up with the last announcement? If not, the read lagged: look again soon. */
  private afterRead(read: Position): void {
    if (reached(read, this.target)) {
      this.target = undefined;
      this.staleReads = 0;
      return;
    }
    this.staleReads += 1;
    if (this.staleReads > STALE_READ_RETRIES) {
      this.log.warn(
        { target: this.target, read },
        "nexus-client: reads keep lagging an announcement; back to polling",
      );
      this.target = undefined;
      this.staleReads = 0;
      this.trace.forget();
    }
  }

  private armNextCheck(): void {
    if (this.closed) return;
    clearTimeout(this.nextCheck);
    const next = nextCheckDelay({
      readFailures: this.readFailures,
      staleReads: this.staleReads,
      waitingForAnnounced: this.target !== undefined,
      pollIntervalMs: this.settings.pollIntervalMs,
    });
    const delay = this.hold.heldRevision !== undefined ? Math.min(next, HELD_RECHECK_MS) : next;
    const reason = this.readFailures > 0 || this.target ? "retry" : "poll";
    this.nextCheck = setTimeout(() => {
      const resyncs = this.unservedResyncs.splice(0);
      for (const id of resyncs) void this.queue.schedule({ reason: "resync", resyncRequestId: id });
      if (resyncs.length === 0) void this.queue.schedule({ reason });
    }, delay);
    this.nextCheck.unref();
  }

  private ack(
    status: "applied" | "rejected",
    document: ResolvedDocument,
    trigger: "initial" | "change" | "resync" | "recovered",
    reason?: string,
    resyncRequestId?: string,
  ): void {
    // A rejected document came from Nexus; an applied one runs from wherever it came.
    const source = status === "applied" ? this.held.source : "live";
    // The ack of the announced revision (or a later one) continues that change's trace.
    this.reports.applied(
      { status, document, source, trigger, reason, resyncRequestId },
      this.trace.ackParent(document.revision),
    );
  }
}
