import {
  AUTH_TOKEN_EXPIRIES_COMMAND,
  type AuthTokenExpiriesCommand,
  AuthTokenExpiriesReply,
} from "@nexus/contracts";
import type { Bus, Logger } from "@nexus/kit";
import type { ExpiringToken } from "./alert-types.js";

/**
 * The registry's expiring tokens (the `token_expiring` rule's input), asked over its NATS command
 * at most every `refreshMs`, in the background: an evaluation never waits on the registry. When
 * the registry does not answer, the last answer stands, so an outage neither raises nor resolves
 * token alerts. Null until the first answer.
 */
export function createTokenExpirySource(deps: {
  bus: Pick<Bus, "requestCommand">;
  logger: Logger;
  refreshMs: number;
}) {
  let last: { withinDays: number; tokens: ExpiringToken[] } | null = null;
  let askedAt = Number.NEGATIVE_INFINITY;
  let askedFor = 0;
  let inFlight: Promise<void> | null = null;
  let warned = false;

  async function ask(withinDays: number) {
    try {
      const command: AuthTokenExpiriesCommand = { schemaVersion: 1, withinDays };
      const reply = await deps.bus.requestCommand(
        AUTH_TOKEN_EXPIRIES_COMMAND,
        command,
        AuthTokenExpiriesReply,
        3_000,
      );
      if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
      last = {
        withinDays,
        tokens: reply.tokens.map((t) => ({
          id: t.tokenId,
          name: t.name,
          owner: t.owner,
          expiresAt: new Date(t.expiresAt),
        })),
      };
      warned = false;
    } catch (err) {
      if (!warned)
        deps.logger.warn(
          { err },
          "the registry did not list expiring tokens; token alerts keep their last state",
        );
      warned = true;
    }
  }

  return {
    /** The last answer now; asks again when it is due or a rule wants a longer window. */
    current(withinDays: number, now: number): ExpiringToken[] | null {
      const due = now - askedAt >= deps.refreshMs || withinDays > askedFor;
      if (due && !inFlight) {
        askedAt = now;
        askedFor = withinDays;
        inFlight = ask(withinDays).finally(() => {
          inFlight = null;
        });
      }
      return last && last.withinDays >= withinDays ? last.tokens : null;
    },
    /** Waits for a question in flight (stopping). */
    async settle() {
      await inFlight;
    },
  };
}
export type TokenExpirySource = ReturnType<typeof createTokenExpirySource>;
