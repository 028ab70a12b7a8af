/** How `set`, `edit` and `rollback` report a layer write: a new revision, or a change request opened. */
import type { WriteOutcome, WriteResult } from "../api-types.js";
import type { Context } from "../context.js";
import { ExitCode, ExitWith } from "../exit-codes.js";
import { pendingChangeText } from "../output/views-fns.js";

/**
 * Prints the outcome. A change request (202) is printed on stdout (`--json`: the change
 * request itself) and the command exits 6, so a script that retries on failure does not retry
 * it (each retry would open another request) and one that needs the write knows it is not done.
 */
export function reportWrite(
  ctx: Context,
  baseUrl: string,
  outcome: WriteOutcome,
  written: (result: WriteResult) => string,
): void {
  if ("pending" in outcome) {
    if (ctx.out.json) ctx.out.data(outcome.pending.changeRequest);
    else ctx.out.text(pendingChangeText(outcome.pending, baseUrl, ctx.out.colors));
    throw new ExitWith(ExitCode.pendingApproval);
  }
  if (ctx.out.json) ctx.out.data(outcome.written);
  else ctx.out.text(written(outcome.written));
}
