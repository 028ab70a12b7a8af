// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the monitor sends them (its OpenAPI document describes them)
/**
 * `nexus monitor ...`: service health, alerts the monitor raised, and its versioned alert rules.
 * The monitor's URL comes from --monitor-url, NEXUS_MONITOR_URL or `monitorUrl` in the config file.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { contextOf } from "../context.js";
import { usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { positiveInt, readInput } from "./args.js";
import { MonitorClient } from "./monitor-client.js";
import { resolveServiceUrl } from "./notifier-fns.js";

export async function monitorFor(io: Io, command: Command) {
  const ctx = contextOf(io, command);
  const settings = await ctx.settings();
  const file = await readFile(ctx.configPath, "utf8").then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
  const flag = command.optsWithGlobals<{ monitorUrl?: string }>().monitorUrl;
  const resolved = resolveServiceUrl(flag, io.env, file, {
    flag: "monitor-url",
    env: "NEXUS_MONITOR_URL",
    fileKey: "monitorUrl",
  });
  if (!resolved)
    throw usageError("no monitor configured", "monitor-url", "Pass --monitor-url or set NEXUS_MONITOR_URL.");
  return { ctx, api: new MonitorClient({ baseUrl: resolved.url, token: settings.token }) };
}

const line = (...parts: (string | number | null | undefined)[]) =>
  parts.filter((p) => p !== null && p !== undefined && p !== "").join("  ");

export function registerMonitor(program: Command, io: Io): void {
  const monitor = program
    .command("monitor")
    .description("service health, alerts and alert rules (the monitor service)")
    .option("--monitor-url <url>", "monitor URL (env NEXUS_MONITOR_URL; or monitorUrl in the config file)");

  const print = async (
    command: Command,
    run: (api: MonitorClient) => Promise<unknown>,
    human: (v: any) => string,
  ) => {
    const { ctx, api } = await monitorFor(io, command);
    const value = await run(api);
    if (ctx.out.json) ctx.out.data(value);
    else ctx.out.text(human(value));
  };

  monitor
    .command("health")
    .description("every Nexus service and instance: health, version, dependencies down")
    .action((_o: unknown, c: Command) =>
      print(
        c,
        (api) => api.services(),
        (v) =>
          [
            `Overall: ${v.status}`,
            ...v.services.flatMap((s: any) => [
              line(s.service, s.health, `(${s.reason})`),
              ...s.instances.map((i: any) => {
                const down = i.dependencies.filter((d: any) => d.status === "down").map((d: any) => d.name);
                return `  ${line(i.instanceId, i.health, `v${i.version}`, down.length ? `down: ${down.join(", ")}` : "")}`;
              }),
            ]),
          ].join("\n"),
      ),
    );

  monitor
    .command("alerts")
    .description("alerts the monitor's rules raised (pending and firing; --all adds resolved)")
    .option("--all", "include resolved alerts")
    .action((o: { all?: boolean }, c: Command) =>
      print(
        c,
        (api) => api.alerts(o.all ? "pending,firing,resolved" : "pending,firing"),
        (v) =>
          v.items
            .map((a: any) => line(a.status, a.severity, a.summary, `since ${a.activeSince}`))
            .join("\n") || "No alert.",
      ),
    );

  const rules = monitor.command("rules").description("the versioned alert rules");
  rules
    .command("show")
    .description("print the rules in force (version 0: the built-in defaults), or an earlier version")
    .option("--version <n>", "an earlier version", positiveInt(2_147_483_647))
    .action((o: { version?: number }, c: Command) =>
      print(
        c,
        (api) => api.rules(o.version),
        (v) => JSON.stringify(v, null, 2),
      ),
    );
  rules
    .command("history")
    .description("list the versions of the alert rules")
    .option("--limit <n>", "how many", positiveInt(200), 20)
    .action((o: { limit: number }, c: Command) =>
      print(
        c,
        (api) => api.rulesHistory(o.limit),
        (v) =>
          v.items.map((x: any) => line(`v${x.version}`, x.createdAt, x.author, x.comment)).join("\n") ||
          "No saved versions: the built-in defaults are in force.",
      ),
    );
  rules
    .command("apply")
    .description("replace the alert rules with a JSON/YAML file ({rules: [...]}): a new version")
    .requiredOption("-f, --file <path>", "the rule set; - reads stdin")
    .option("-m, --message <text>", "why, stored with the version")
    .option(
      "--if-match <version>",
      "refuse if the rules are no longer at this version",
      positiveInt(2_147_483_647),
    )
    .option("--dry-run", "only check the file")
    .action(async (o: { file: string; message?: string; ifMatch?: number; dryRun?: boolean }, c: Command) => {
      const text = await readInput(o.file, io);
      let doc: Record<string, unknown>;
      try {
        doc = parseYaml(text) as Record<string, unknown>;
      } catch (err) {
        throw usageError(`${o.file} is neither JSON nor YAML: ${(err as Error).message}`, "file");
      }
      const body = { ...doc, ...(o.message ? { comment: o.message } : {}) };
      if (o.dryRun)
        return print(
          c,
          (api) => api.validateRules(body),
          (v) => `The rule set is valid (${v.rules} rules); nothing was saved.`,
        );
      await print(
        c,
        (api) => api.applyRules(body, o.ifMatch),
        (v) => `Saved alert rules version ${v.version} (${v.rules.length} rules).`,
      );
    });
}
