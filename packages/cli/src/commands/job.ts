/**
 * `nexus job list`, `nexus job run <name>` and `nexus job show <run-id>`: the orchestrator's
 * maintenance jobs (compliance scans, backup drills; admins only). `run` starts one now and waits
 * for its outcome, saying what it does meanwhile (stderr), unless --no-wait. The orchestrator's
 * URL comes as for `nexus run`.
 */
import type { JobListDto, JobRunDto } from "@nexus/contracts";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { renderTable, shortTime } from "../output/table-fns.js";
import { parseName } from "./args.js";
import { findingPlace, jobProgressLine, jobRunHeadline, scheduleWords } from "./job-fns.js";
import type { OrchestratorClient } from "./orchestrator-client.js";
import { ORCHESTRATOR_URL_OPTION, orchestratorFor } from "./pipeline.js";

const POLL_MS = 500;
/** Off a terminal, a progress line this often (on one it is rewritten in place each poll). */
const PIPE_PROGRESS_MS = 5_000;

function runText(run: JobRunDto, colors: Context["out"]["colors"]): string {
  const lines = [jobRunHeadline(run), `  ${run.summary || "(no summary yet)"}`];
  if (run.findings.length > 0)
    lines.push(
      renderTable(
        ["where", "kind", "finding"],
        run.findings.map((f) => [findingPlace(f), f.kind, f.message]),
        colors,
      ).trimEnd(),
    );
  return lines.join("\n");
}

/** Poll until the run ends, with its progress on stderr; returns the finished run. */
async function waitFor(io: Io, ctx: Context, api: OrchestratorClient, first: JobRunDto): Promise<JobRunDto> {
  const tty = io.stderr.isTTY === true;
  const began = Date.parse(first.startedAt);
  let shownAt = 0;
  let shown = false;
  let run = first;
  while (run.status === "running") {
    const now = Date.now();
    if (!ctx.out.json && (tty || now - shownAt >= PIPE_PROGRESS_MS)) {
      const line = jobProgressLine(run, now - began);
      io.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      shownAt = now;
      shown = true;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    run = (await api.jobRun(run.id)) as JobRunDto;
  }
  if (tty && shown) io.stderr.write("\r\x1b[K");
  return run;
}

export function registerJob(program: Command, io: Io): void {
  const job = program
    .command("job")
    .description("maintenance jobs: compliance scans and backup drills (the orchestrator; admin role)")
    .option(...ORCHESTRATOR_URL_OPTION);

  job
    .command("list")
    .description("jobs with their kind, schedule and next scheduled time")
    .action(async (_o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const { items } = (await api.jobs()) as JobListDto;
      if (ctx.out.json) return ctx.out.data({ items });
      if (items.length === 0) return ctx.out.text("no jobs");
      ctx.out.text(
        renderTable(
          ["name", "kind", "schedule", "next run", "updated by", "updated"],
          items.map((j) => [
            j.name,
            j.kind,
            scheduleWords(j),
            j.nextRunAt ? shortTime(j.nextRunAt) : "-",
            j.updatedBy,
            shortTime(j.updatedAt),
          ]),
          ctx.out.colors,
        ),
      );
    });

  job
    .command("run")
    .description("run a job now and wait for its outcome (a failed run exits 1), or --no-wait")
    .argument("<name>", "job", parseName)
    .option("--no-wait", "print the started run and return at once")
    .action(async (name: string, o: { wait: boolean }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const started = (await api.startJob(name)) as JobRunDto;
      if (!o.wait) {
        if (ctx.out.json) return ctx.out.data(started);
        return ctx.out.text(
          `Started job run ${started.id} of ${started.job} (${started.kind}).\nSee it with: nexus job show ${started.id}`,
        );
      }
      if (!ctx.out.json) ctx.out.note(`started job run ${started.id} of ${started.job} (${started.kind})`);
      const done = await waitFor(io, ctx, api, started);
      if (ctx.out.json) ctx.out.data(done);
      else ctx.out.text(runText(done, ctx.out.colors));
      if (done.status === "failed")
        throw new CliError(`job run ${done.id} of ${done.job} failed: ${done.summary}`, {
          exitCode: ExitCode.error,
          code: "job_failed",
        });
    });

  job
    .command("show")
    .description("one job run: status, summary and each finding")
    .argument("<run-id>", "job run id (printed by `job run`)")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const run = (await api.jobRun(id)) as JobRunDto;
      if (ctx.out.json) return ctx.out.data(run);
      ctx.out.text(runText(run, ctx.out.colors));
    });
}
