export * from "./asyncapi.js";
export * from "./catalog.js";
export * from "./commands/config-set.js";
export * from "./envelope.js";
export * from "./events/config-changed.js";
export * from "./http/error.js";
export * from "./identifiers.js";
