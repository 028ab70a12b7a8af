/** Where the test fixtures find the real servers; defaults match the machine's local services. */
export const testConfig = Object.freeze({
  adminDatabaseUrl: process.env.NEXUS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  redisUrl: process.env.NEXUS_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  /** Set by the global setup; tags everything one test run creates. */
  get runId(): string {
    return process.env.NEXUS_TEST_RUN_ID ?? "adhoc";
  },
  natsUrl: process.env.NEXUS_TEST_NATS_URL ?? "nats://127.0.0.1:4222",
  /** Where servers a test starts itself (nats-server) are looked for, and what they inherit. */
  path: process.env.PATH ?? "/usr/sbin:/usr/bin:/bin",
});

/** Workers are forked after the global setup, so they inherit the run id through the environment. */
export function setTestRunId(runId: string): void {
  process.env.NEXUS_TEST_RUN_ID = runId;
}
