import { accessSync, constants, readFileSync } from "node:fs";
import {
  type Authenticator,
  type ConnectionOptions,
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from "@nats-io/transport-node";
import { z } from "zod";
import { NexusConfigError } from "./errors.js";

/** How this consuming service logs in to NATS (the server's config gives it its own subjects). */
export type NatsCredentials =
  | { user: string; password: string }
  | { token: string }
  /** An nkey user seed (`SU…`), as `nsc` or `nk -gen user` prints it. */
  | { nkeySeed: string }
  /** A `.creds` file (JWT + seed, decentralised auth); re-read at each (re)connect, so it can be rotated. */
  | { credsFile: string };

export const NatsCredentialsSchema = z.union([
  z.strictObject({ user: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ token: z.string().min(1) }),
  z.strictObject({
    nkeySeed: z.string().regex(/^SU[A-Z2-7]{56}$/, "an nkey user seed: SU followed by 56 characters"),
  }),
  z.strictObject({ credsFile: z.string().min(1) }),
]);

/** Subject tokens without wildcards: what nats.js accepts as `inboxPrefix`. */
export const NatsInboxPrefix = z
  .string()
  .regex(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    "subject tokens of letters, digits, '_' or '-', e.g. _INBOX_payments-api",
  );

const CREDENTIAL_FIELDS = ["user", "pass", "token", "authenticator"] as const;

/**
 * The connection options the client connects with: the application's, plus an authenticator
 * for `credentials` and the inbox prefix. Credentials given both ways are refused rather than
 * guessing which one wins.
 */
export function withNatsAuth(
  spec: ConnectionOptions,
  credentials: NatsCredentials | undefined,
  inboxPrefix: string | undefined,
): ConnectionOptions {
  const out: ConnectionOptions = { ...spec };
  if (credentials) {
    const clash = CREDENTIAL_FIELDS.find((k) => spec[k] !== undefined);
    if (clash) {
      throw new NexusConfigError(
        "invalid_options",
        `give NATS credentials either as natsCredentials or as nats.${clash}, not both`,
        { field: "natsCredentials" },
      );
    }
    out.authenticator = authenticatorFor(credentials);
  }
  if (inboxPrefix) out.inboxPrefix = inboxPrefix;
  return out;
}

function authenticatorFor(credentials: NatsCredentials): Authenticator {
  if ("user" in credentials) return usernamePasswordAuthenticator(credentials.user, credentials.password);
  if ("token" in credentials) return tokenAuthenticator(credentials.token);
  if ("nkeySeed" in credentials) return nkeyAuthenticator(new TextEncoder().encode(credentials.nkeySeed));
  const file = credentials.credsFile;
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new NexusConfigError("invalid_options", `option natsCredentials.credsFile: cannot read ${file}`, {
      field: "natsCredentials.credsFile",
    });
  }
  return credsAuthenticator(() => readFileSync(file));
}
