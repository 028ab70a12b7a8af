import type { NatsConnection } from "@nats-io/transport-node";
import type { ConfigChanged } from "@nexus/contracts";
import type { ConfigLogger } from "./logger.js";
import type { RolloutGate } from "./rollout-gate.js";

/** Revisions remembered as announced without a rollout gate (the newest ones). */
const UNGATED_KEPT = 64;

/**
 * The newer revision a wave rollout keeps from this instance until its wave is released: asked
 * of the orchestrator (through the gate) before each apply, remembered while held.
 *
 * Not asked for a revision the registry announced with `rolloutGate: false`: no rollout's gate
 * was open on this place when that write committed, and the orchestrator opens the gate before it
 * commits a plan, so no plan can hold it. Only a write's own announcement counts (trigger `write`
 * or `rollback`: the revision is new there); a revision known any other way (a read, a resync, a
 * `dependency` or `variables` change keeping the revision) is asked about.
 */
export class RolloutHold {
  private deferred: { revision: number; rolloutId: string } | undefined;
  private readonly ungated = new Set<number>();

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
    if (event.rolloutGate !== false || (event.trigger !== "write" && event.trigger !== "rollback")) return;
    this.ungated.add(event.revision);
    if (this.ungated.size > UNGATED_KEPT) this.ungated.delete(Math.min(...this.ungated));
  }

  /**
   * Does a wave rollout keep `revision` from this instance (which keeps running `keeping`)? Held:
   * the config in use stays (and is what heartbeats report); the release event, or the next check,
   * asks again.
   */
  async holds(nc: NatsConnection | undefined, revision: number, keeping: number): Promise<boolean> {
    if (!this.gate) return false;
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
