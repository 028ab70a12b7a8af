import { type ServiceProcess, startServiceProcess } from "../../../../test/support/service-process.js";
import { TEST_SECRETS_KEY } from "./harness.js";

export type NotifierProcess = ServiceProcess;

/** The real notifier (src/main.ts) as its own process, with the test key for receiver secrets. */
export const startNotifierProcess = (env: Record<string, string>): Promise<NotifierProcess> =>
  startServiceProcess("notifier", "services/notifier/src/main.ts", {
    NOTIFIER_SECRETS_KEY: TEST_SECRETS_KEY,
    ...env,
  });
