import type { ChangeRequestDto } from "./change-request-types.js";

/** Layer names that reach a protected environment: the environment's own overlay, and base. */
export function protectedEnvironmentsReached(
  layer: string,
  namespaceEnvironments: readonly string[],
  protectedEnvironments: readonly string[],
): string[] {
  const reached = layer === "base" ? namespaceEnvironments : [layer];
  return reached.filter((e) => protectedEnvironments.includes(e));
}

/** The 202 body of a write that became a change request. */
export function pendingAnswer(changeRequest: ChangeRequestDto) {
  return {
    changeRequest,
    message: `${changeRequest.namespace}/${changeRequest.layer} is protected: your change waits as change request ${changeRequest.id} for an approver other than you.`,
  };
}
