import { randomBytes } from "node:crypto";
import { type ServiceProcess, startServiceProcess } from "./service-process.js";

export { freePort } from "./service-process.js";

/**
 * What a registry process needs to authenticate: a token key and a bootstrap admin token, the way
 * an operator sets them. Keep one per database: the key must stay the same across restarts.
 */
export function registryAuth(): {
  env: Record<string, string>;
  token: string;
  headers: Record<string, string>;
} {
  const token = `nxs_${randomBytes(8).toString("hex")}_${randomBytes(32).toString("base64url")}`;
  return {
    env: { AUTH_TOKEN_KEY: randomBytes(32).toString("base64"), NEXUS_BOOTSTRAP_TOKEN: token },
    token,
    headers: { authorization: `Bearer ${token}` },
  };
}

export type RegistryProcess = ServiceProcess;

/** The real config-registry as its own process, started the way scripts/up.sh starts it. */
export const startRegistryProcess = (
  env: Record<string, string>,
  options: { onOutput?: (text: string) => void; built?: boolean } = {},
): Promise<RegistryProcess> =>
  startServiceProcess("config-registry", "services/config-registry/src/main.ts", env, options);
