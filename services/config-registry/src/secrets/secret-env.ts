import { z } from "zod";
import { type Keyring, keyringOf } from "./secret-crypto-fns.js";

/**
 * The registry's secrets variables. Both optional: without master keys the registry runs, redacts
 * what it has, and refuses to store or reveal secrets (503 `secrets_not_configured`).
 */
export const secretsEnvShape = {
  /** `kid:base64-of-32-bytes`, comma-separated; every key any data key is still wrapped with. */
  SECRETS_MASTER_KEYS: z.string().optional(),
  /** The master key new data keys are wrapped with (optional when there is one key). */
  SECRETS_ACTIVE_KEY_ID: z.string().optional(),
};

interface SecretsEnv {
  SECRETS_MASTER_KEYS?: string | undefined;
  SECRETS_ACTIVE_KEY_ID?: string | undefined;
}

/** For `.superRefine`: each problem on its variable, in words (never a key's value). */
export function checkSecretsEnv(env: SecretsEnv, ctx: z.RefinementCtx): void {
  for (const p of keyringOf(env.SECRETS_MASTER_KEYS, env.SECRETS_ACTIVE_KEY_ID).problems) {
    ctx.addIssue({ code: "custom", path: [p.variable], message: p.message });
  }
}

export const keyringFromEnv = (env: SecretsEnv): Keyring | null =>
  keyringOf(env.SECRETS_MASTER_KEYS, env.SECRETS_ACTIVE_KEY_ID).keyring;
