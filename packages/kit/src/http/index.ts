export * from "./app.js";
export * from "./audit-router.js";
export { DISCARD_MAX_BYTES, DISCARD_MAX_MS, SECURITY_HEADERS } from "./connection-errors.js";
export * from "./error-handler.js";
export * from "./fast-validator.js";
export * from "./health.js";
export * from "./input-guards.js";
export * from "./metrics.js";
export * from "./rate-limit-store.js";
