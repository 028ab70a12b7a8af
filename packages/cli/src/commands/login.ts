/**
 * `nexus login [url]`: check the registry answers and accepts the token (`/v1/whoami`), then store
 * URL and token in the config file. `nexus whoami`: who the token says you are.
 */
import type { Command } from "commander";
import { ApiClient } from "../api-client.js";
import { writeConfigFile } from "../config-file.js";
import { normalizeRegistryUrl, type StoredConfig } from "../config-fns.js";
import { contextOf } from "../context.js";
import { usageError } from "../exit-codes.js";
import { identityText } from "../output/access-views-fns.js";
import type { Io } from "../output/output.js";
import { readInput } from "./args.js";

interface LoginOptions {
  tokenStdin?: boolean;
}

const NO_TOKEN_HINT =
  "Every registry call needs an API token. Pass it with --token-stdin (safest: not in your shell history), --token or NEXUS_TOKEN; an admin creates one with `nexus token create`.";

export function registerLogin(program: Command, io: Io): void {
  program
    .command("login")
    .description("check a registry accepts your token, show who you are, and save URL and token (mode 0600)")
    .argument(
      "[url]",
      "registry URL, e.g. http://127.0.0.1:4100 (default: --url, NEXUS_URL or the saved one)",
    )
    .option("--token-stdin", "read the token from stdin instead of --token / NEXUS_TOKEN")
    .addHelpText(
      "after",
      "\nThe token decides who you are: the registry records its owner as the author of your changes.\n" +
        "Without a new token, the one saved for the same registry is checked and kept.",
    )
    .action(async (urlArg: string | undefined, options: LoginOptions, command: Command) => {
      const ctx = contextOf(io, command);
      // A broken config file is about to be replaced: it must not stop a login.
      const stored = (await ctx.stored().catch(() => null)) ?? {};
      const rawUrl = urlArg ?? ctx.options.url ?? io.env.NEXUS_URL ?? stored.url;
      if (!rawUrl) throw usageError("which registry? Pass its URL: nexus login http://127.0.0.1:4100", "url");
      const url = normalizeRegistryUrl(rawUrl);

      let token = ctx.options.token ?? io.env.NEXUS_TOKEN;
      let source = ctx.options.token ? "--token" : token ? "NEXUS_TOKEN" : undefined;
      if (options.tokenStdin) {
        if (ctx.options.token)
          throw usageError("pass the token with --token or --token-stdin, not both", "token");
        token = (await readInput("-", io)).trim();
        source = "--token-stdin";
        if (token === "") throw usageError("--token-stdin read an empty token", "token");
      }
      // A token saved for this same registry is kept; one saved for another registry is not.
      if (!token && stored.url === url && stored.token) {
        token = stored.token;
        source = `the config file ${ctx.configPath}`;
      }
      if (!token) throw usageError("no token to log in with", "token", NO_TOKEN_HINT);

      const client = new ApiClient({ baseUrl: url, token, tokenSource: source, timeoutMs: 10_000 });
      await client.livez();
      const who = await client.whoami();

      // Other settings in the file (e.g. driftUrl) stay; `author` from older CLIs is dropped.
      const { url: _oldUrl, token: _oldToken, ...kept } = stored;
      const next: StoredConfig = { ...kept, url, token };
      await writeConfigFile(ctx.configPath, next);

      if (ctx.out.json) {
        ctx.out.data({ url, configPath: ctx.configPath, token: true, whoami: who });
      } else {
        ctx.out.text(identityText(who, url, ctx.out.colors));
        ctx.out.text(`Logged in: URL and token saved in ${ctx.configPath}.`);
      }
    });

  program
    .command("whoami")
    .description("who the registry says you are (your token's owner) and what you may do")
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const who = await client.whoami();
      if (ctx.out.json) ctx.out.data(who);
      else ctx.out.text(identityText(who, client.baseUrl, ctx.out.colors));
    });
}
