/** `nexus login [url]`: check that a registry answers, then store its URL (and token) in the config file. */
import type { Command } from "commander";
import { ApiClient } from "../api-client.js";
import { writeConfigFile } from "../config-file.js";
import { normalizeRegistryUrl, resolveSettings, type StoredConfig } from "../config-fns.js";
import { contextOf } from "../context.js";
import { usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { readInput } from "./args.js";

interface LoginOptions {
  tokenStdin?: boolean;
}

export function registerLogin(program: Command, io: Io): void {
  program
    .command("login")
    .description("check a registry answers and save its URL and token (config file, mode 0600)")
    .argument(
      "[url]",
      "registry URL, e.g. http://127.0.0.1:4100 (default: --url, NEXUS_URL or the saved one)",
    )
    .option("--token-stdin", "read the token from stdin instead of --token / NEXUS_TOKEN")
    .addHelpText(
      "after",
      "\nThe token is optional until the registry enforces tokens. --author (or NEXUS_AUTHOR) is saved too;\n" +
        "it names you in the history (Nexus-Author) and defaults to your login name.",
    )
    .action(async (urlArg: string | undefined, options: LoginOptions, command: Command) => {
      const ctx = contextOf(io, command);
      // A broken config file is about to be replaced: it must not stop a login.
      const stored = (await ctx.stored().catch(() => null)) ?? {};
      const rawUrl = urlArg ?? ctx.options.url ?? io.env.NEXUS_URL ?? stored.url;
      if (!rawUrl) throw usageError("which registry? Pass its URL: nexus login http://127.0.0.1:4100", "url");
      const url = normalizeRegistryUrl(rawUrl);

      let token = ctx.options.token ?? io.env.NEXUS_TOKEN;
      if (options.tokenStdin) {
        if (ctx.options.token)
          throw usageError("pass the token with --token or --token-stdin, not both", "token");
        token = (await readInput("-", io)).trim();
        if (token === "") throw usageError("--token-stdin read an empty token", "token");
      }
      // A token saved for this same registry is kept; one saved for another registry is not.
      if (token === undefined && stored.url === url) token = stored.token;

      const { author } = resolveSettings({
        flags: { url, author: ctx.options.author },
        env: io.env,
        file: stored,
        fallbackAuthor: io.username,
      });
      const client = new ApiClient({ baseUrl: url, token, author, timeoutMs: 10_000 });
      await client.livez();
      await client.checkApi();

      const next: StoredConfig = { url };
      if (token) next.token = token;
      const savedAuthor = ctx.options.author ?? stored.author;
      if (savedAuthor) next.author = savedAuthor;
      await writeConfigFile(ctx.configPath, next);

      if (ctx.out.json) {
        ctx.out.data({ url, configPath: ctx.configPath, token: token !== undefined, author });
      } else {
        ctx.out.text(
          `Logged in to ${url} as ${author} (${token ? "token saved" : "no token"}); settings in ${ctx.configPath}`,
        );
      }
    });
}
