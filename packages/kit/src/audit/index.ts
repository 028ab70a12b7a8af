export * from "./audit-insert.js";
export * from "./audit-log.js";
export * from "./audit-types.js";
