// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the orchestrator sends them (its OpenAPI document describes them)
/**
 * `nexus pipeline ...` (declare, list, show, delete promotion pipelines), `nexus run ...` (start,
 * list, show and follow runs) and `nexus approve <run>` (approve or reject the step a run waits
 * on). The orchestrator's URL comes from --orchestrator-url, NEXUS_ORCHESTRATOR_URL or
 * `orchestratorUrl` in the config file.
 */
import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { type Context, contextOf } from "../context.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { renderTable, shortTime } from "../output/table-fns.js";
import { parseName, parseRevision, readInput } from "./args.js";
import { OrchestratorClient } from "./orchestrator-client.js";
import {
  FINISHED,
  progressLines,
  type RunView,
  resolveOrchestratorUrl,
  runHeadline,
  stepLines,
} from "./orchestrator-fns.js";

export const ORCHESTRATOR_URL_OPTION = [
  "--orchestrator-url <url>",
  "orchestrator URL (env NEXUS_ORCHESTRATOR_URL; or orchestratorUrl in the config file)",
] as const;

export async function orchestratorFor(io: Io, command: Command) {
  const ctx = contextOf(io, command);
  const settings = await ctx.settings();
  const file = await readFile(ctx.configPath, "utf8").then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
  const flag = command.optsWithGlobals<{ orchestratorUrl?: string }>().orchestratorUrl;
  const url = resolveOrchestratorUrl(flag, io.env, file);
  if (!url)
    throw usageError(
      "no orchestrator configured",
      "orchestrator-url",
      "Pass --orchestrator-url or set NEXUS_ORCHESTRATOR_URL.",
    );
  return { ctx, api: new OrchestratorClient({ baseUrl: url, token: settings.token }) };
}

const showRun = (run: RunView) =>
  [runHeadline(run), ...stepLines(run), ...(run.failure ? [`  why: ${run.failure}`] : [])].join("\n");

/** Print what changes until the run finishes or waits for approval; a failed run exits 1. */
async function follow(ctx: Context, api: OrchestratorClient, id: string, pollMs = 500): Promise<void> {
  let last: RunView | null = null;
  for (;;) {
    const now = (await api.run(id)) as RunView;
    if (ctx.out.json) {
      if (!last || last.status !== now.status || JSON.stringify(last.steps) !== JSON.stringify(now.steps))
        ctx.out.event(now);
    } else for (const line of progressLines(last, now)) ctx.out.note(line);
    last = now;
    if (now.status === "awaiting-approval") {
      if (!ctx.out.json) {
        const preview = now.steps?.find((s) => s.status === "waiting")?.output;
        if (preview) ctx.out.note(preview);
        ctx.out.note(`waiting for approval: nexus approve ${id}`);
      }
      return;
    }
    if (FINISHED.has(now.status)) {
      if (now.status !== "succeeded")
        throw new CliError(`run ${id} ${now.status}: ${now.failure ?? "a step failed"}`, {
          exitCode: ExitCode.error,
          code: "run_failed",
        });
      return;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function registerPipeline(program: Command, io: Io): void {
  const pipeline = program
    .command("pipeline")
    .description("promotion pipelines (the orchestrator service)")
    .option(...ORCHESTRATOR_URL_OPTION);

  pipeline
    .command("list")
    .description("pipelines this token may see")
    .action(async (_o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const { items } = await api.pipelines();
      if (ctx.out.json) return ctx.out.data({ items });
      if (items.length === 0) return ctx.out.text("no pipelines");
      ctx.out.text(
        renderTable(
          ["name", "namespace", "from → to", "version", "steps", "updated"],
          items.map((p: any) => [
            p.name,
            p.namespace,
            `${p.source} → ${p.target}`,
            p.version,
            p.definition.steps.map((s: any) => s.name).join(", "),
            shortTime(p.updatedAt),
          ]),
          ctx.out.colors,
        ),
      );
    });

  pipeline
    .command("show")
    .description("a pipeline's current definition (YAML), or its versions with --history")
    .argument("<name>", "pipeline", parseName)
    .option("--history", "list every version instead")
    .action(async (name: string, o: { history?: boolean }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      if (o.history) {
        const { items } = await api.versions(name);
        if (ctx.out.json) return ctx.out.data({ items });
        return ctx.out.text(
          renderTable(
            ["version", "by", "at"],
            items.map((v: any) => [v.version, v.createdBy, shortTime(v.createdAt)]),
            ctx.out.colors,
          ),
        );
      }
      const p = await api.pipeline(name);
      if (ctx.out.json) return ctx.out.data(p);
      ctx.out.text(`# version ${p.version}, by ${p.updatedBy}\n${toYaml(p.definition)}`);
    });

  pipeline
    .command("apply")
    .description("create a pipeline, or store a new version of it, from a YAML or JSON file (- for stdin)")
    .requiredOption("-f, --file <path>", "the pipeline document")
    .action(async (o: { file: string }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const text = await readInput(o.file, io);
      let name: unknown;
      try {
        name = (parseYaml(text) as { name?: unknown } | null)?.name;
      } catch {
        name = undefined; // the server names the line of the syntax error
      }
      let saved: any;
      if (typeof name === "string") {
        const exists = await api.pipeline(name).then(
          () => true,
          (err: unknown) => {
            if (err instanceof CliError && err.status === 404) return false;
            throw err;
          },
        );
        saved = exists ? await api.replacePipeline(name, text) : await api.createPipeline(text);
      } else saved = await api.createPipeline(text);
      if (ctx.out.json) return ctx.out.data(saved);
      ctx.out.text(
        `Saved pipeline ${saved.name} (version ${saved.version}): ${saved.namespace} ${saved.source} → ${saved.target}.`,
      );
    });

  pipeline
    .command("delete")
    .description("delete a pipeline and its versions (its runs stay)")
    .argument("<name>", "pipeline", parseName)
    .action(async (name: string, _o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      await api.deletePipeline(name);
      if (ctx.out.json) return ctx.out.data({ deleted: name });
      ctx.out.text(`Deleted pipeline ${name}.`);
    });
}

export function registerRun(program: Command, io: Io): void {
  const run = program
    .command("run")
    .description("runs of promotion pipelines (the orchestrator service)")
    .option(...ORCHESTRATOR_URL_OPTION);

  run
    .command("start")
    .description("start a run; the source overlay's revision is pinned now (or give --revision)")
    .argument("<pipeline>", "pipeline", parseName)
    .option("--revision <n>", "the source overlay revision to promote", parseRevision)
    .option("--follow", "print each step as it goes, until the run ends or waits for approval")
    .action(async (name: string, o: { revision?: number; follow?: boolean }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const started = (await api.startRun(name, o.revision)) as RunView;
      if (!o.follow) return ctx.out.json ? ctx.out.data(started) : ctx.out.text(runHeadline(started));
      if (!ctx.out.json) ctx.out.text(runHeadline(started));
      await follow(ctx, api, started.id);
    });

  run
    .command("list")
    .description("runs, newest first")
    .option("--pipeline <name>", "only this pipeline", parseName)
    .addOption(
      new Option("--status <status>", "only runs in this state").choices([
        "running",
        "awaiting-approval",
        "rolling-back",
        "succeeded",
        "failed",
        "rolled-back",
      ]),
    )
    .option("--limit <n>", "at most this many", "50")
    .action(async (o: { pipeline?: string; status?: string; limit: string }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const { items } = await api.runs({ pipeline: o.pipeline, status: o.status, limit: o.limit });
      if (ctx.out.json) return ctx.out.data({ items });
      if (items.length === 0) return ctx.out.text("no runs");
      ctx.out.text(
        renderTable(
          ["id", "pipeline", "status", "revision", "promoted", "by", "started"],
          items.map((r: any) => [
            r.id,
            r.pipeline,
            r.status,
            `${r.source}@${r.sourceRevision}`,
            r.promotedRevision ?? "-",
            r.startedBy,
            shortTime(r.createdAt),
          ]),
          ctx.out.colors,
        ),
      );
    });

  run
    .command("cancel")
    .description("stop a run at the step it is on; what it promoted is rolled back")
    .argument("<id>", "run id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const r = (await api.cancel(id)) as RunView;
      if (ctx.out.json) return ctx.out.data(r);
      ctx.out.text(`Asked run ${id} of ${r.pipeline} to stop; follow it with: nexus run show ${id} --follow`);
    });

  run
    .command("show")
    .description("a run with its steps; --follow prints each change until it ends or waits for approval")
    .argument("<id>", "run id")
    .option("--follow", "keep printing until the run ends or waits for approval")
    .action(async (id: string, o: { follow?: boolean }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      if (o.follow) return follow(ctx, api, id);
      const r = (await api.run(id)) as RunView;
      if (ctx.out.json) return ctx.out.data(r);
      ctx.out.text(showRun(r));
    });
}

export function registerApprove(program: Command, io: Io): void {
  program
    .command("approve")
    .description("approve the step a run waits on (approver role; not the run's author), or --reject it")
    .argument("<run>", "run id")
    .option("-m, --comment <text>", "why", "")
    .option("--reject", "reject instead: the run stops")
    .option(...ORCHESTRATOR_URL_OPTION)
    .action(async (id: string, o: { comment: string; reject?: boolean }, c: Command) => {
      const { ctx, api } = await orchestratorFor(io, c);
      const r = (await (o.reject ? api.reject(id, o.comment) : api.approve(id, o.comment))) as RunView;
      if (ctx.out.json) return ctx.out.data(r);
      ctx.out.text(`${o.reject ? "Rejected" : "Approved"} run ${id} of ${r.pipeline}.`);
    });
}
