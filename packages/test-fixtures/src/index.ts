export * from "./postgres.js";
export * from "./redis.js";
export * from "./config.js";
export * from "./nats.js";
