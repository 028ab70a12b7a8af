export * from "./access-fns.js";
export * from "./auth-types.js";
