import { tmpdir } from "node:os";
import { join } from "node:path";

/** How the registry reaches Git sources and takes their webhooks (RegistryDeps.config.git). */
export interface GitConfig {
  cacheDir: string;
  /** Cron pattern of the reconcile. */
  reconcileSchedule: string;
  /** Run the reconcile (under a lease); tests call `reconciler.runOnce()` instead. */
  reconcile: boolean;
  webhookMaxBytes: number;
  webhookToleranceSeconds: number;
  fetchTimeoutMs: number;
  /** What `git` runs with: where to find it (and its helpers), and a HOME; nothing else of ours. */
  processEnv: { PATH: string; HOME?: string | undefined };
  /** Loopback/private/link-local addresses (or CIDRs) Git sources may still reach; none by default. */
  allowAddresses: readonly string[];
}
export const GIT_DEFAULTS: GitConfig = {
  cacheDir: join(tmpdir(), "nexus-git-cache"),
  reconcileSchedule: "*/3 * * * *",
  reconcile: true,
  webhookMaxBytes: 5 * 1024 * 1024,
  webhookToleranceSeconds: 300,
  fetchTimeoutMs: 120_000,
  processEnv: { PATH: "/usr/local/bin:/usr/bin:/bin" },
  allowAddresses: [],
};
