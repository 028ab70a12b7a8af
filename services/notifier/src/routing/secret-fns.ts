/**
 * Receiver secrets at rest: sealed (kit sealValue, AES-256-GCM) when a routing version is saved,
 * opened only when a delivery is sent. The associated data binds each ciphertext to its receiver
 * (name and type) and field, so a value copied to another receiver or field does not open.
 *
 * Rows written before sealing existed hold plaintext: both forms are read (plaintext is used as
 * it is and sealed at the next save of the routing config), so no migration rewrites old rows.
 */
import { isSealed, openSealed, SealError, type SealingKeys, sealedKeyId, sealValue } from "@nexus/kit";
import { getPath, secretFieldsOf, setPath } from "./routing-fns.js";
import type { Receiver, RoutingConfig } from "./routing-types.js";

export const secretAad = (r: Pick<Receiver, "name" | "type">, field: string) =>
  `nexus-notifier-receiver-secret-v1\u0000${r.name}\u0000${r.type}\u0000${field}`;

/** A receiver secret that does not open: which receiver and field, and why (never the value). */
export class ReceiverSecretError extends Error {
  constructor(
    readonly receiver: string,
    readonly field: string,
    readonly sealError: SealError,
  ) {
    super(`cannot decrypt ${field} of receiver ${receiver}: ${sealError.message}`);
    this.name = "ReceiverSecretError";
  }
}

function eachSecret(r: Receiver, fn: (field: string, value: string) => string): Receiver {
  const copy = structuredClone(r) as Record<string, unknown>;
  for (const field of secretFieldsOf(r.type)) {
    const value = getPath(copy, field);
    if (typeof value === "string") setPath(copy, field, fn(field, value));
  }
  return copy as Receiver;
}

/**
 * Every secret sealed with the active key: plaintext is sealed, values sealed with an earlier key
 * are opened and sealed again (a save after a key rotation moves them to the new key).
 */
export function sealConfigSecrets(config: RoutingConfig, keys: SealingKeys): RoutingConfig {
  return {
    ...config,
    receivers: config.receivers.map((r) =>
      eachSecret(r, (field, value) => {
        if (!isSealed(value)) return sealValue(keys, value, secretAad(r, field));
        if (sealedKeyId(value) === keys.activeKeyId) return value;
        return sealValue(keys, openField(r, field, value, keys), secretAad(r, field));
      }),
    ),
  };
}

function openField(r: Receiver, field: string, value: string, keys: SealingKeys): string {
  try {
    return openSealed(keys, value, secretAad(r, field));
  } catch (err) {
    if (err instanceof SealError) throw new ReceiverSecretError(r.name, field, err);
    throw err;
  }
}

/** The receiver with its secrets in plaintext, to send with (and for nothing else). */
export const openReceiverSecrets = (r: Receiver, keys: SealingKeys): Receiver =>
  eachSecret(r, (field, value) => (isSealed(value) ? openField(r, field, value, keys) : value));

/** The path of a secret someone sent that looks like a sealed value (refused: it would never open). */
export function sealedLookingInput(config: Pick<RoutingConfig, "receivers">): string | null {
  for (const [i, r] of config.receivers.entries())
    for (const field of secretFieldsOf(r.type))
      if (isSealed(getPath(r, field))) return `receivers.${i}.${field}`;
  return null;
}

/** Text (an error, a receiver's answer) with the receiver's secret values cut out. */
export function scrubSecrets(text: string, r: Receiver): string {
  let out = text;
  for (const field of secretFieldsOf(r.type)) {
    const value = getPath(r, field);
    if (typeof value === "string" && value.length >= 4) out = out.split(value).join("<redacted>");
  }
  return out;
}
