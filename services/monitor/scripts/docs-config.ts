import type { MonitorConfig } from "../src/app.js";

/** Settings that shape no route: the OpenAPI document does not depend on them. */
export const testConfigForDocs: MonitorConfig = {
  databaseUrl: "postgres://unused@127.0.0.1:1/unused",
  schema: "monitor",
  outboxRelay: false,
  expectedServices: [],
  missedHeartbeats: 3,
  evaluateIntervalMs: 1_000,
  absentGraceMs: 15_000,
  bucketMs: 60_000,
  retentionMs: 86_400_000,
  forgetInstanceMs: 86_400_000,
};
