import { type ServiceProcess, startServiceProcess } from "./service-process.js";

export type DetectorProcess = ServiceProcess;

/** The real drift-detector as its own process, ready once `/readyz` answers. */
export const startDetectorProcess = (
  env: Record<string, string>,
  options: Parameters<typeof startServiceProcess>[3] = {},
): Promise<DetectorProcess> =>
  startServiceProcess("drift-detector", "services/drift-detector/src/main.ts", env, options);
