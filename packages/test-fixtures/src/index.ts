export * from "./config.js";
export * from "./nats.js";
export * from "./nats-server.js";
export * from "./oidc.js";
export * from "./postgres.js";
export * from "./redis.js";
export * from "./route-table.js";
export * from "./tcp-proxy.js";
