import { CONFIG_CHANGED } from "@nexus/contracts";
import type { Bus, Consumption } from "@nexus/kit";
import type { PolicyService } from "./policy-service.js";

export const POLICY_DURABLE = "drift-policy";

/**
 * Every config.changed re-evaluates the policies of its (namespace, environment) against the
 * document the registry serves now. Its own durable, so a registry outage delays policy findings
 * (retries, then the scheduled scan) without holding up the inventory.
 */
export function consumePolicyChanges(deps: {
  bus: Pick<Bus, "consume">;
  policies: Pick<PolicyService, "evaluateTarget">;
}): Promise<Consumption> {
  return deps.bus.consume(CONFIG_CHANGED, { durable: POLICY_DURABLE, concurrency: 4 }, async (event) => {
    await deps.policies.evaluateTarget(event.data.namespace, event.data.environment, {
      name: POLICY_DURABLE,
      eventId: event.id,
    });
  });
}
