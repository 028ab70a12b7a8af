import type { ConfigChanged } from "@nexus/contracts";

/** The idempotency key of the heads' part of a change (the name of the durable it once had). */
export const HEADS_DURABLE = "drift-heads";

/** A `config.changed` as the detector's parts see it. */
export interface Change {
  id: string;
  data: ConfigChanged;
  at: Date;
  /** The event's traceparent: the reconciler judges the head in the change's trace. */
  traceparent?: string | undefined;
}
