/** `nexus audit` (query the audit log) and `nexus audit export` (all of it, as JSON lines). Admins only. */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { finished } from "node:stream/promises";
import { type Command, Option } from "commander";
import type { AuditFilter, AuditOutcome } from "../access-types.js";
import { contextOf } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { auditTable } from "../output/access-views-fns.js";
import type { Io, Writer } from "../output/output.js";
import { LineProgress } from "../output/progress.js";
import { nonNegativeInt, parseActor, parseResource, parseTimeBound } from "./access-args.js";
import { positiveInt } from "./args.js";

interface FilterOptions {
  actor?: string;
  resource?: string;
  since?: string;
  until?: string;
  outcome?: AuditOutcome;
}

interface QueryOptions extends FilterOptions {
  limit: number;
  after?: number;
}

/** The filters both commands take. */
function withFilters(command: Command): Command {
  return command
    .option("--actor <actor>", "who: token:<id> (or just the id), oidc:<subject>, anonymous", parseActor)
    .option("--resource <path>", "requests under this path, e.g. /v1/namespaces/payments", parseResource)
    .option(
      "--since <time>",
      "from this time: ISO (2026-11-21T10:00:00Z) or back from now (30m, 2h, 7d)",
      (v) => parseTimeBound(v),
    )
    .option("--until <time>", "before this time (same forms as --since)", (v) => parseTimeBound(v))
    .addOption(
      new Option("--outcome <outcome>", "allowed, denied (refused by access control) or failed").choices([
        "allowed",
        "denied",
        "failed",
      ]),
    );
}

const filterOf = (o: FilterOptions): AuditFilter => ({
  actor: o.actor,
  resource: o.resource,
  since: o.since,
  until: o.until,
  outcome: o.outcome,
});

export function registerAudit(program: Command, io: Io): void {
  const audit = withFilters(
    program
      .command("audit")
      .description("who did what, and what was refused: the audit log (needs the admin role)"),
  )
    .option("--limit <n>", "at most this many entries, oldest first", positiveInt(1000), 100)
    .option("--after <seq>", "continue after this entry (the SEQ column)", nonNegativeInt)
    .addHelpText(
      "after",
      "\nThe log records every change, every refusal and every secret read. Actors are token ids,\n" +
        "not names: `nexus token list` shows whose token an id is.",
    )
    .action(async (options: QueryOptions, command: Command) => {
      const ctx = contextOf(io, command);
      const page = await (await ctx.client()).audit(
        { ...filterOf(options), after: options.after },
        options.limit,
      );
      if (ctx.out.json) {
        ctx.out.data(page);
        return;
      }
      ctx.out.text(auditTable(page.entries, ctx.out.colors));
      if (page.next !== null) ctx.out.note(`more entries: run again with --after ${page.next}`);
    });

  withFilters(
    audit
      .command("export")
      .description("the whole audit log (or what matches the filters) as JSON lines, oldest first"),
  )
    .option("-o, --output <file>", "write to this file (mode 0600) instead of stdout")
    .action(async (_options: object, command: Command) => {
      // Filters may come before `export` too (`nexus audit --actor x export`).
      const options = command.optsWithGlobals<FilterOptions & { output?: string }>();
      const ctx = contextOf(io, command);
      const client = await ctx.client();
      const progress = new LineProgress(io.stderr);
      const target = options.output
        ? await openTarget(resolve(io.cwd, options.output))
        : stdoutTarget(io.stdout);
      try {
        for await (const chunk of client.auditExport(filterOf(options))) {
          await target.write(chunk);
          progress.add(chunk);
        }
        await target.commit();
      } catch (err) {
        await target.abandon();
        throw err instanceof CliError && progress.lines > 0
          ? new CliError(err.message, {
              exitCode: err.exitCode,
              code: err.code,
              hint: options.output
                ? `${progress.lines} lines had arrived; ${options.output} was not written. Run the export again.`
                : `${progress.lines} lines had been written; the output is incomplete. Run the export again.`,
              cause: err,
            })
          : err;
      } finally {
        progress.finish();
      }
      const lines = `${progress.lines} audit ${progress.lines === 1 ? "entry" : "entries"}`;
      ctx.out.note(options.output ? `Exported ${lines} to ${options.output}.` : `Exported ${lines}.`);
    });
}

interface ExportTarget {
  write(chunk: Uint8Array): Promise<void>;
  /** Everything arrived: make the output final. */
  commit(): Promise<void>;
  /** The export failed: leave nothing half-written behind (a file), or nothing more (stdout). */
  abandon(): Promise<void>;
}

/** Waits when the writer's buffer is full (a slow pipe or disk must not fill memory). */
async function writeWithBackpressure(writer: Writer, chunk: Uint8Array): Promise<void> {
  const w = writer as Writer & { once?: (event: "drain", fn: () => void) => unknown };
  if (w.write(chunk) === false && typeof w.once === "function") {
    await new Promise<void>((done) => w.once?.("drain", done));
  }
}

function stdoutTarget(stdout: Writer): ExportTarget {
  return {
    write: (chunk) => writeWithBackpressure(stdout, chunk),
    commit: async () => {},
    abandon: async () => {},
  };
}

/** A new file beside the target, renamed over it only when the export is complete. */
async function openTarget(path: string): Promise<ExportTarget> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.partial`);
  const stream = createWriteStream(tmp, { flags: "wx", mode: 0o600 });
  try {
    await new Promise<void>((ready, fail) => {
      stream.once("open", () => ready());
      stream.once("error", fail);
    });
  } catch (err) {
    throw new CliError(
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        exitCode: ExitCode.usage,
        code: "output_unwritable",
        field: "output",
        cause: err,
      },
    );
  }
  return {
    write: (chunk) => writeWithBackpressure(stream, chunk),
    async commit() {
      stream.end();
      await finished(stream);
      await rename(tmp, path);
    },
    async abandon() {
      stream.destroy();
      await rm(tmp, { force: true });
    },
  };
}
