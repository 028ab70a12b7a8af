import { newSealingKey, parseSealingKeys } from "@nexus/kit";
import type { NotifierConfig } from "../src/app.js";

/** Settings that shape no route: the OpenAPI document does not depend on them. */
export const testConfigForDocs: NotifierConfig = {
  links: {},
  outbound: { allowHttp: false, allowAddresses: [], timeoutMs: 1_000, maxResponseBytes: 1024 },
  delivery: { maxAttempts: 1, backoffBaseMs: 1_000, backoffMaxMs: 1_000, leaseMs: 1_000 },
  slackIntervalMs: 1_000,
  workerPollMs: 1_000,
  consumeEvents: false,
  consumerConcurrency: 1,
  bodyLimit: 1024 * 1024,
  secretsKeys: parseSealingKeys(newSealingKey()).keys!,
};
