import { z } from "zod";

/**
 * Names that end up as NATS subject tokens and URL segments: lowercase DNS-label style, so they
 * can never contain the subject separators or wildcards (`.`, `*`, `>`) or need URL escaping.
 */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const ResourceName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    NAME_PATTERN,
    "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
  );

export const NamespaceName = ResourceName.describe("Namespace name, e.g. `payments-api`");
export const EnvironmentName = ResourceName.describe("Environment name, e.g. `production`");

/** Hex sha256 of the canonical JSON (RFC 8785) of a document. */
export const ContentHash = z.string().regex(/^[a-f0-9]{64}$/, "must be a hex sha256");

export const RevisionNumber = z.number().int().min(1);
