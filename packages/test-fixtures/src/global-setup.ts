import { randomBytes } from "node:crypto";
import { setTestRunId } from "./config.js";
import { dropTestDatabasesOfRun } from "./postgres.js";

/**
 * Vitest global setup for integration tests. Each run gets an id that its workers inherit, so a
 * run only ever drops its own databases, even while another run shares the server. Templates are
 * keyed by migration content and kept as a cache between runs.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString("hex");
  setTestRunId(runId);
  return async () => {
    await dropTestDatabasesOfRun(runId);
  };
}
