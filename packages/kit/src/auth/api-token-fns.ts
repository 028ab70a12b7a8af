import { createHmac, timingSafeEqual } from "node:crypto";
import { API_TOKEN_PREFIX } from "./authenticator.js";

const API_TOKEN = /^nxs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The id part of a well-formed API token (`nxs_<16 hex>_<43 base64url>`), or null. */
export function apiTokenId(token: string): string | null {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  return API_TOKEN.exec(token)?.[1] ?? null;
}

/**
 * What is stored and compared instead of the token: HMAC-SHA256 under the cluster's token key.
 * Tokens carry 256 random bits, so a keyed hash is as strong as a slow one and costs microseconds
 * on every request; without the key a leaked table cannot even be checked against a guess.
 */
export function apiTokenDigest(key: Buffer, token: string): string {
  return createHmac("sha256", key).update(token).digest("hex");
}

export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
