import { type ServiceProcess, startServiceProcess } from "../../../../test/support/service-process.js";

export type OrchestratorProcess = ServiceProcess;

/** The real orchestrator (src/main.ts) as its own process. */
export const startOrchestratorProcess = (env: Record<string, string>): Promise<OrchestratorProcess> =>
  startServiceProcess("orchestrator", "services/orchestrator/src/main.ts", env);
