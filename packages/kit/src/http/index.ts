export * from "./app.js";
export * from "./error-handler.js";
export * from "./fast-validator.js";
export * from "./health.js";
export * from "./input-guards.js";
export * from "./metrics.js";
