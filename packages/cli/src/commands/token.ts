/** `nexus token create | list | revoke`: API tokens (admins only). */
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { createdTokenNotice, revokedTokenLine, tokenTable } from "../output/access-views-fns.js";
import type { Io } from "../output/output.js";
import { grantRefusal, tokenIdOf } from "./access-args.js";
import { collect, positiveInt } from "./args.js";

interface CreateOptions {
  grant: string[];
  owner?: string;
  expiresInDays?: number;
}

export function registerToken(program: Command, io: Io): void {
  const token = program
    .command("token")
    .description("API tokens: create, list, revoke (needs the admin role)");

  token
    .command("create")
    .description("create an API token; it is printed once, on stdout, and never again")
    .argument("<name>", "what the token is for, e.g. ci-deploy")
    .requiredOption(
      "--grant <grant>",
      "role[:namespacePattern[:environmentPattern]], e.g. editor:payments-*:staging (repeatable)",
      collect,
    )
    .option("--owner <owner>", "who answers for it and is the author of its changes (default: you)")
    .option("--expires-in-days <days>", "days until it stops working (default: never)", positiveInt(3650))
    .addHelpText(
      "after",
      "\nRoles: viewer, editor, approver, secret-reader, admin. Patterns use * and ?.\n" +
        "The token alone goes to stdout (TOKEN=$(nexus token create ...) works); what it is goes to stderr.",
    )
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const created = await client
        .createToken({
          name,
          grants: options.grant,
          owner: options.owner,
          expiresInDays: options.expiresInDays,
        })
        .catch((err: unknown) => {
          throw grantRefusal(err, options.grant);
        });
      if (ctx.out.json) {
        ctx.out.data(created);
        return;
      }
      ctx.out.note(createdTokenNotice(created, ctx.out.colors));
      ctx.out.text(created.token);
    });

  token
    .command("list")
    .description("list API tokens (never their values)")
    .option("--all", "include revoked tokens")
    .action(async (options: { all?: boolean }, command: Command) => {
      const ctx = contextOf(io, command);
      const tokens = await (await ctx.client()).listTokens(options.all === true);
      if (ctx.out.json) ctx.out.data({ tokens });
      else ctx.out.text(tokenTable(tokens, ctx.out.colors));
    });

  token
    .command("revoke")
    .description("revoke an API token: every Nexus service refuses it from then on")
    .argument("<id>", "the token's id (16 hex characters, see `nexus token list`)")
    .action(async (rawId: string, _options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const id = tokenIdOf(rawId);
      const client = await ctx.client();
      const before = await client.getToken(id);
      const after = before.status === "revoked" ? before : await client.revokeToken(id);
      if (ctx.out.json) ctx.out.data(after);
      else ctx.out.text(revokedTokenLine(after, before.status === "revoked"));
    });
}
