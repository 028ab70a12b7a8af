/**
 * `nexus watch <ns> <env>`: prints the current revision, then each change as it happens, until
 * Ctrl-C (or SIGTERM), which ends it with exit 0. With `--json`: one JSON object per line.
 */
import { type Command, Option } from "commander";
import { contextOf } from "../context.js";
import { describeOperations, diffDocuments, entriesAsJson, renderDiffLines } from "../output/diff-fns.js";
import type { Io } from "../output/output.js";
import { shortHash } from "../output/table-fns.js";
import { createPollingSource } from "../watch/polling-source.js";
import type { ResolvedSnapshot } from "../watch/watch-source.js";
import { envArgument, nsArgument, seconds } from "./args.js";

interface WatchOptions {
  interval: number;
}

export function registerWatch(program: Command, io: Io): void {
  program
    .command("watch")
    .description("print each change of the resolved configuration as it happens (Ctrl-C to stop)")
    .addArgument(nsArgument())
    .addArgument(envArgument())
    .addOption(
      new Option("--interval <seconds>", "how often to ask the registry (0.1-3600)")
        .argParser(seconds(0.1, 3600))
        .default(1),
    )
    .addHelpText(
      "after",
      '\nWith --json, one object per line: {"type":"snapshot",...} first, then {"type":"change",...,"changes":[...]}.',
    )
    .action(async (ns: string, env: string, options: WatchOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const { out } = ctx;
      const { colors } = out;

      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);

      const source = createPollingSource(client, {
        intervalMs: Math.round(options.interval * 1000),
        notices: {
          unreachable: (err) => out.note(`warning: ${err.message}; retrying`),
          recovered: () => out.note("the registry answers again"),
        },
      });
      try {
        let previous: ResolvedSnapshot | undefined;
        for await (const next of source.watch({ namespace: ns, environment: env }, stop.signal)) {
          const time = new Date().toISOString();
          if (previous === undefined) {
            if (out.json) out.event({ type: "snapshot", time, ...next });
            else {
              out.text(
                `${stamp(time)} ${colors.bold(`${ns}/${env}`)} at revision ${next.revision} (sha256 ${shortHash(next.hash)})`,
              );
              out.note(`watching for changes every ${options.interval} s; Ctrl-C to stop`);
            }
          } else {
            const entries = describeOperations(
              diffDocuments(previous.content, next.content),
              previous.content,
            );
            if (out.json) {
              out.event({
                type: "change",
                time,
                ...next,
                previousRevision: previous.revision,
                previousHash: previous.hash,
                changes: entriesAsJson(entries),
              });
            } else {
              const head = `${stamp(time)} ${colors.bold(`${ns}/${env}`)} revision ${next.revision} (was ${previous.revision}), sha256 ${shortHash(next.hash)}`;
              out.text([head, ...renderDiffLines(entries, colors, "  ")].join("\n"));
            }
          }
          previous = next;
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

/** `[12:34:56]` in UTC, matching the ISO times of --json. */
const stamp = (iso: string) => `[${iso.slice(11, 19)}]`;
