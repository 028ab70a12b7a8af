/** `nexus secrets rotate`: re-wrap every namespace's data key with the registry's active master key. */
import type { Command } from "commander";
import { USER_AGENT } from "../api-client.js";
import { contextOf } from "../context.js";
import { CliError, ExitCode, errorFromResponse, type ServerErrorBody, usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";

export interface RotationReport {
  activeKeyId: string;
  dataKeys: number;
  rewrapped: number;
  alreadyCurrent: number;
  failed: { dataKeyId: number; namespace: string; masterKeyId: string; reason: string }[];
}

/** The report in plain words, one line per failure. */
export function rotationSummary(r: RotationReport): string {
  const lines = [
    `Data keys: ${r.dataKeys}; re-wrapped now: ${r.rewrapped}; already on master key "${r.activeKeyId}": ${r.alreadyCurrent}; failed: ${r.failed.length}`,
  ];
  for (const f of r.failed)
    lines.push(
      `  failed: data key ${f.dataKeyId} of ${f.namespace} (master key "${f.masterKeyId}"): ${f.reason}`,
    );
  if (r.failed.length === 0)
    lines.push(
      `Every data key is wrapped by "${r.activeKeyId}"; older master keys can be removed from SECRETS_MASTER_KEYS.`,
    );
  return lines.join("\n");
}

const isReport = (v: unknown): v is RotationReport =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as RotationReport).activeKeyId === "string" &&
  Number.isInteger((v as RotationReport).dataKeys) &&
  Array.isArray((v as RotationReport).failed);

export function registerSecrets(program: Command, io: Io): void {
  const secrets = program.command("secrets").description("secrets: master key rotation");

  secrets
    .command("rotate")
    .description(
      "re-wrap every namespace's data key with the registry's active master key (SECRETS_ACTIVE_KEY_ID); needs an admin token",
    )
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const s = await ctx.settings();
      if (!s.url)
        throw usageError(
          "no registry configured",
          "url",
          "Run `nexus login <url>`, or pass --url / set NEXUS_URL.",
        );
      let res: Response;
      try {
        res = await fetch(new URL("/v1/admin/secrets/rotate", s.url), {
          method: "POST",
          headers: {
            accept: "application/json",
            "user-agent": USER_AGENT,
            ...(s.token ? { authorization: `Bearer ${s.token}` } : {}),
          },
          // A registry with many namespaces takes a while; it answers when every key is done.
          signal: AbortSignal.timeout(10 * 60_000),
        });
      } catch (err) {
        throw new CliError(`cannot reach the registry at ${s.url} (${(err as Error).message})`, {
          exitCode: ExitCode.error,
          code: "unreachable",
          cause: err,
        });
      }
      const body = (await res.json().catch(() => undefined)) as unknown;
      if (!res.ok) {
        throw errorFromResponse(
          res.status,
          res.statusText,
          (body as { error?: ServerErrorBody } | undefined)?.error,
        );
      }
      if (!isReport(body))
        throw new CliError("the registry's answer is not a rotation report", {
          exitCode: ExitCode.error,
          code: "unexpected_response",
        });
      if (ctx.out.json) ctx.out.data(body);
      else ctx.out.text(rotationSummary(body));
      if (body.failed.length > 0)
        throw new CliError(`${body.failed.length} data key(s) could not be re-wrapped`, {
          exitCode: ExitCode.error,
          code: "rotation_incomplete",
          hint: "Configure the master keys they name on the registry, then run `nexus secrets rotate` again.",
        });
    });
}
