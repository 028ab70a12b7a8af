export * from "./db/migrate.js";
export * from "./db/pool.js";
export * from "./env.js";
export * from "./errors.js";
export * from "./logger.js";
export * from "./redis.js";
export * from "./http/index.js";
export * from "./shutdown.js";
