import type { NatsConnection } from "@nats-io/transport-node";
import type { ConfigChanged } from "@nexus/contracts";
import type { ConfigLogger } from "./logger.js";
import type { RolloutGate } from "./rollout-gate.js";

/** Revisions remembered as announced without a rollout gate (the newest ones). */
const UNGATED_KEPT = 64;

/**
 * How long a read newer than every announcement waits for its announcement before asking: under
 * a burst of writes the read that follows one announcement often returns a later revision whose
 * own announcement is a few ms behind. Only the cost depends on it: unannounced, it is asked.
 */
export const ANNOUNCEMENT_WAIT_MS = 250;

/**
 * The newer revision a wave rollout keeps from this instance until its wave is released: asked
 * of the orchestrator (through the gate) before each apply, remembered while held.
 *
 * Not asked for a revision the registry announced with `rolloutGate: false`: no rollout's gate
 * was open on this place when that write committed, and the orchestrator opens the gate before it
 * commits a plan, so no plan can hold it. Only a write's own announcement counts (trigger `write`
 * or `rollback`: the revision is new there); a revision known any other way (a read, a resync, a
 * `dependency` or `variables` change keeping the revision) is asked about. A read ahead of every
 * announcement waits up to ANNOUNCEMENT_WAIT_MS for its own (with NATS, where they come from).
 */
export class RolloutHold {
  private deferred: { revision: number; rolloutId: string } | undefined;
  private readonly ungated = new Set<number>();
  private newestAnnounced = 0;
  private readonly waiters = new Set<{ revision: number; done(): void }>();

  constructor(
    private readonly gate: RolloutGate | undefined,
    private readonly log: ConfigLogger,
  ) {}

  /** The revision held back, if any. */
  get heldRevision(): number | undefined {
    return this.deferred?.revision;
  }

  /** Remember a write's announcement that no rollout gate was open on its revision. */
  noteChange(event: Pick<ConfigChanged, "revision" | "trigger" | "rolloutGate">): void {
    if (event.rolloutGate === false && (event.trigger === "write" || event.trigger === "rollback")) {
      this.ungated.add(event.revision);
      if (this.ungated.size > UNGATED_KEPT) this.ungated.delete(Math.min(...this.ungated));
    }
    this.newestAnnounced = Math.max(this.newestAnnounced, event.revision);
    for (const w of this.waiters) if (w.revision <= event.revision) w.done();
  }

  /** Resolves once a revision at or past `revision` was announced, or after ANNOUNCEMENT_WAIT_MS. */
  private announcementOf(revision: number): Promise<void> {
    if (revision <= this.newestAnnounced) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        revision,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, ANNOUNCEMENT_WAIT_MS);
      timer.unref?.();
      this.waiters.add(waiter);
    });
  }

  /**
   * Does a wave rollout keep `revision` from this instance (which keeps running `keeping`)? Held:
   * the config in use stays (and is what heartbeats report); the release event, or the next check,
   * asks again.
   */
  async holds(nc: NatsConnection | undefined, revision: number, keeping: number): Promise<boolean> {
    if (!this.gate) return false;
    if (nc && !this.ungated.has(revision)) await this.announcementOf(revision);
    const answer = this.ungated.has(revision)
      ? ({ decision: "apply" } as const)
      : await this.gate.ask(nc, revision);
    if (answer.decision === "apply") {
      if (this.deferred) this.log.info({ revision }, "nexus-client: rollout wave released");
      this.deferred = undefined;
      return false;
    }
    if (this.deferred?.revision !== revision)
      this.log.info(
        { revision, keeping, rolloutId: answer.rolloutId, wave: answer.wave },
        "nexus-client: a wave rollout holds this revision until the instance's wave is released",
      );
    this.deferred = { revision, rolloutId: answer.rolloutId };
    return true;
  }
}
