export * from "./heartbeat-fns.js";
export * from "./service-heartbeat.js";
