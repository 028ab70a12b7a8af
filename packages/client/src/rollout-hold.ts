import type { NatsConnection } from "@nats-io/transport-node";
import type { ConfigLogger } from "./logger.js";
import type { RolloutGate } from "./rollout-gate.js";

/**
 * The newer revision a wave rollout keeps from this instance until its wave is released: asked
 * of the orchestrator (through the gate) before each apply, remembered while held.
 */
export class RolloutHold {
  private deferred: { revision: number; rolloutId: string } | undefined;

  constructor(
    private readonly gate: RolloutGate | undefined,
    private readonly log: ConfigLogger,
  ) {}

  /** The revision held back, if any. */
  get heldRevision(): number | undefined {
    return this.deferred?.revision;
  }

  /**
   * Does a wave rollout keep `revision` from this instance (which keeps running `keeping`)? Held:
   * the config in use stays (and is what heartbeats report); the release event, or the next check,
   * asks again.
   */
  async holds(nc: NatsConnection | undefined, revision: number, keeping: number): Promise<boolean> {
    if (!this.gate) return false;
    const answer = await this.gate.ask(nc, revision);
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
