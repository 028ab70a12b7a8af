import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { CONFIG_APPLIED, configAppliedSubject } from "@nexus/contracts";
import type { Bus } from "@nexus/kit";

/** One applied-ack as a waiting run needs it. */
export interface SeenAck {
  instanceId: string;
  revision: number;
}

type Listener = (ack: SeenAck) => void;

interface Target {
  subscription: Subscription;
  users: number;
  /** Newest revision each instance acked `applied` since the first watcher came. */
  applied: Map<string, number>;
  listeners: Set<Listener>;
}

/**
 * Applied-acks of the targets runs are waiting on, straight from NATS (core subscription on the
 * event's subject; JetStream stores the same messages for the drift-detector). A waiting step
 * learns of the last instance's ack as it happens instead of at the next look at the
 * drift-detector's inventory, which ingests acks in batches (INVENTORY_FLUSH_MS, 500 ms by
 * default). Only while someone watches: nothing is subscribed when no run waits here.
 */
export function createAppliedAcks(deps: { nc: NatsConnection; bus: Pick<Bus, "subject"> }) {
  const targets = new Map<string, Target>();
  const keyOf = (namespace: string, environment: string) => `${namespace}\u0000${environment}`;

  function open(namespace: string, environment: string): Target {
    const subject = deps.bus.subject(configAppliedSubject({ namespace, environment }));
    const target: Target = {
      users: 0,
      applied: new Map(),
      listeners: new Set(),
      subscription: deps.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          const ack = parseAck(msg.string());
          if (!ack) return;
          if ((target.applied.get(ack.instanceId) ?? -1) < ack.revision)
            target.applied.set(ack.instanceId, ack.revision);
          for (const l of target.listeners) l(ack);
        },
      }),
    };
    return target;
  }

  return {
    /** Follow a target's acks until `stop()`; listeners hear each applied-ack. */
    watch(namespace: string, environment: string, listener?: Listener) {
      const key = keyOf(namespace, environment);
      let target = targets.get(key);
      if (!target) {
        target = open(namespace, environment);
        targets.set(key, target);
      }
      const t = target;
      t.users += 1;
      if (listener) t.listeners.add(listener);
      let stopped = false;
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          if (listener) t.listeners.delete(listener);
          t.users -= 1;
          if (t.users > 0) return;
          targets.delete(key);
          t.subscription.unsubscribe();
        },
      };
    },
    /** Instances that acked `applied` (their newest revision) while the target was watched; empty when not. */
    seen(namespace: string, environment: string): ReadonlyMap<string, number> {
      return targets.get(keyOf(namespace, environment))?.applied ?? new Map();
    },
    stopAll() {
      for (const t of targets.values()) t.subscription.unsubscribe();
      targets.clear();
    },
  };
}
export type AppliedAcks = ReturnType<typeof createAppliedAcks>;
export type { SeenAcks } from "../steps/step-types.js";

/** The instance and revision of an `applied` ack in its CloudEvents envelope; null for anything else. */
export function parseAck(text: string): SeenAck | null {
  try {
    const event = JSON.parse(text) as { type?: unknown; data?: Record<string, unknown> };
    const d = event.data;
    if (event.type !== CONFIG_APPLIED || !d || d.status !== "applied") return null;
    if (typeof d.instanceId !== "string" || typeof d.revision !== "number") return null;
    return { instanceId: d.instanceId, revision: d.revision };
  } catch {
    return null;
  }
}
