// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are printed as the notifier sends them (its OpenAPI document describes them)
/**
 * `nexus notifier ...`: routing config (routes, receivers, inhibition rules; versioned), silences,
 * alerts (history, ack) and deliveries (dead letters, re-send). The notifier's URL comes from
 * --notifier-url, NEXUS_NOTIFIER_URL or `notifierUrl` in the config file.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { contextOf } from "../context.js";
import { usageError } from "../exit-codes.js";
import type { Io } from "../output/output.js";
import { collect, positiveInt, readInput } from "./args.js";
import { NotifierClient } from "./notifier-client.js";
import { describeSilenceChanges, parseDuration, parseMatcher, resolveNotifierUrl } from "./notifier-fns.js";

async function notifierFor(io: Io, command: Command) {
  const ctx = contextOf(io, command);
  const settings = await ctx.settings();
  const file = await readFile(ctx.configPath, "utf8").then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => null,
  );
  const flag = command.optsWithGlobals<{ notifierUrl?: string }>().notifierUrl;
  const resolved = resolveNotifierUrl(flag, io.env, file);
  if (!resolved) {
    throw usageError(
      "no notifier configured",
      "notifier-url",
      "Pass --notifier-url or set NEXUS_NOTIFIER_URL.",
    );
  }
  return {
    ctx,
    api: new NotifierClient({ baseUrl: resolved.url, token: settings.token }),
  };
}

/** A JSON or YAML document from a file or stdin (`-`). */
async function readDocument(path: string, io: Io): Promise<unknown> {
  const text = await readInput(path, io);
  try {
    return parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw usageError(`${path} is neither JSON nor YAML: ${(err as Error).message}`, "file");
  }
}

const line = (...parts: (string | number | null | undefined)[]) =>
  parts.filter((p) => p !== null && p !== undefined && p !== "").join("  ");

export function registerNotifier(program: Command, io: Io): void {
  const notifier = program
    .command("notifier")
    .description("alert routing, silences, alert history and deliveries (the notifier service)")
    .option(
      "--notifier-url <url>",
      "notifier URL (env NEXUS_NOTIFIER_URL; or notifierUrl in the config file)",
    );

  const print = async (
    command: Command,
    run: (api: NotifierClient) => Promise<unknown>,
    human: (v: any) => string,
  ) => {
    const { ctx, api } = await notifierFor(io, command);
    const value = await run(api);
    if (ctx.out.json) ctx.out.data(value);
    else ctx.out.text(human(value));
  };

  const routing = notifier
    .command("routing")
    .description("the versioned routing config: route tree, receivers, inhibition rules");
  routing
    .command("show")
    .description("print the routing config in force (secrets redacted), or an earlier version")
    .option("--version <n>", "an earlier version", positiveInt(2_147_483_647))
    .action((o: { version?: number }, c: Command) =>
      print(
        c,
        (api) => api.routing(o.version),
        (v) => JSON.stringify(v, null, 2),
      ),
    );
  routing
    .command("history")
    .description("list the versions of the routing config")
    .option("--limit <n>", "how many", positiveInt(200), 20)
    .action((o: { limit: number }, c: Command) =>
      print(
        c,
        (api) => api.routingHistory(o.limit),
        (v) =>
          v.items.map((x: any) => line(`v${x.version}`, x.createdAt, x.author, x.comment)).join("\n") ||
          "No versions yet.",
      ),
    );
  routing
    .command("apply")
    .description(
      "replace the routing config with a JSON/YAML file (a new version; <redacted> keeps stored secrets)",
    )
    .requiredOption("-f, --file <path>", "the config (route, receivers, inhibitRules); - reads stdin")
    .option("-m, --message <text>", "why, stored with the version")
    .option(
      "--if-match <version>",
      "refuse if the config is no longer at this version",
      positiveInt(2_147_483_647),
    )
    .action(async (o: { file: string; message?: string; ifMatch?: number }, c: Command) => {
      const doc = (await readDocument(o.file, io)) as Record<string, unknown>;
      await print(
        c,
        (api) => api.applyRouting({ ...doc, ...(o.message ? { comment: o.message } : {}) }, o.ifMatch),
        (v) => `Saved routing version ${v.version}.`,
      );
    });
  routing
    .command("rollback <version>")
    .description("make an earlier version's content the newest version")
    .option("-m, --message <text>", "why")
    .action((version: string, o: { message?: string }, c: Command) =>
      print(
        c,
        (api) => api.rollback(positiveInt(2_147_483_647)(version), o.message),
        (v) => `Saved routing version ${v.version} (${v.comment}).`,
      ),
    );

  const receivers = notifier
    .command("receivers")
    .description("Slack, PagerDuty, e-mail and webhook receivers");
  receivers
    .command("list")
    .description("list receivers (secrets redacted)")
    .action((_o: object, c: Command) =>
      print(
        c,
        (api) => api.receivers(),
        (v) => v.items.map((r: any) => line(r.name, r.type)).join("\n") || "No receivers.",
      ),
    );
  receivers
    .command("set <name>")
    .description("create or replace a receiver from a JSON/YAML file (a new routing version)")
    .requiredOption("-f, --file <path>", "the receiver (type, and its settings); - reads stdin")
    .action(async (name: string, o: { file: string }, c: Command) => {
      const doc = (await readDocument(o.file, io)) as Record<string, unknown>;
      await print(
        c,
        (api) => api.putReceiver(name, { ...doc, name }),
        (v) => `Saved receiver ${name} (routing version ${v.version}).`,
      );
    });
  receivers
    .command("delete <name>")
    .description("delete a receiver (refused while a route uses it)")
    .action((name: string, _o: object, c: Command) =>
      print(
        c,
        (api) => api.deleteReceiver(name),
        (v) => `Deleted receiver ${name} (routing version ${v.version}).`,
      ),
    );

  const silences = notifier.command("silences").description("mute alerts for a while");
  silences
    .command("list")
    .option("--expired", "include ended silences")
    .action((o: { expired?: boolean }, c: Command) =>
      print(
        c,
        (api) => api.silences(o.expired === true),
        (v) =>
          v.items
            .map((s: any) =>
              line(
                s.id,
                s.state,
                `until ${s.endsAt}`,
                s.matchers.map((m: any) => `${m.label}${m.op}${m.value}`).join(","),
                `by ${s.createdBy}: ${s.comment}`,
              ),
            )
            .join("\n") || "No silences.",
      ),
    );
  silences
    .command("add")
    .description("silence alerts whose labels match every --matcher")
    .requiredOption(
      "--matcher <label=value>",
      "label=value, label!=value, label=~regex, label!~regex (repeatable)",
      collect,
    )
    .option("--duration <d>", "how long, e.g. 30m, 2h, 1d", "1h")
    .option("--starts <iso>", "start later (ISO time); default now")
    .requiredOption("-c, --comment <text>", "why (shown with the silence)")
    .action(
      async (o: { matcher: string[]; duration: string; starts?: string; comment: string }, c: Command) => {
        const start = o.starts ? new Date(o.starts) : new Date();
        if (Number.isNaN(start.getTime())) throw usageError("--starts is not an ISO time", "starts");
        const body = {
          matchers: o.matcher.map(parseMatcher),
          ...(o.starts ? { startsAt: start.toISOString() } : {}),
          endsAt: new Date(start.getTime() + parseDuration(o.duration)).toISOString(),
          comment: o.comment,
        };
        await print(
          c,
          (api) => api.addSilence(body),
          (v) => `Silence ${v.id} ${v.state} until ${v.endsAt}.`,
        );
      },
    );
  silences
    .command("expire <id>")
    .description("end a silence now")
    .option("-m, --message <text>", "why, stored with the version")
    .action((id: string, o: { message?: string }, c: Command) =>
      print(
        c,
        (api) => api.expireSilence(id, o.message),
        (v) => `Silence ${v.id} ended.`,
      ),
    );
  silences
    .command("edit <id>")
    .description("change a silence that has not ended (a new version)")
    .option("--matcher <label=value>", "replace the matchers (repeatable)", collect)
    .option("--duration <d>", "end this long from now, e.g. 30m, 2h")
    .option("--ends <iso>", "end at this ISO time")
    .option("-c, --comment <text>", "the silence's new comment")
    .option("-m, --message <text>", "why it changed, stored with the version")
    .action(
      async (
        id: string,
        o: { matcher?: string[]; duration?: string; ends?: string; comment?: string; message?: string },
        c: Command,
      ) => {
        if (o.duration && o.ends) throw usageError("give --duration or --ends, not both", "ends");
        const ends = o.ends ? new Date(o.ends) : undefined;
        if (ends && Number.isNaN(ends.getTime())) throw usageError("--ends is not an ISO time", "ends");
        const body = {
          ...(o.matcher ? { matchers: o.matcher.map(parseMatcher) } : {}),
          ...(o.duration ? { endsAt: new Date(Date.now() + parseDuration(o.duration)).toISOString() } : {}),
          ...(ends ? { endsAt: ends.toISOString() } : {}),
          ...(o.comment ? { comment: o.comment } : {}),
          ...(o.message ? { changeComment: o.message } : {}),
        };
        await print(
          c,
          (api) => api.editSilence(id, body),
          (v) => `Silence ${v.id} ${v.state} until ${v.endsAt}.`,
        );
      },
    );
  silences
    .command("history [id]")
    .description("every change to silences (or to one), newest first: who, why, what changed")
    .option("--limit <n>", "how many", positiveInt(200), 20)
    .action((id: string | undefined, o: { limit: number }, c: Command) =>
      print(
        c,
        (api) => api.silenceVersions({ silence: id, limit: String(o.limit) }),
        (v) =>
          v.items
            .map((x: any) =>
              line(
                `v${x.version}`,
                x.createdAt,
                x.action,
                x.silenceId,
                `by ${x.author}${x.comment ? `: ${x.comment}` : ""}`,
                `(${describeSilenceChanges(x.changes)})`,
              ),
            )
            .join("\n") || "No silence changes yet.",
      ),
    );

  const alerts = notifier.command("alerts").description("what fired, who was told, who acknowledged");
  alerts
    .command("list")
    .option("--status <status>", "firing, resolved or notice")
    .option("--severity <severity>", "critical, error, warning or info")
    .option("--limit <n>", "how many", positiveInt(500), 50)
    .action((o: { status?: string; severity?: string; limit: number }, c: Command) =>
      print(
        c,
        (api) => api.alerts({ status: o.status, severity: o.severity, limit: String(o.limit) }),
        (v) =>
          v.items
            .map((a: any) =>
              line(
                a.status.toUpperCase(),
                a.severity,
                a.fingerprint,
                a.summary,
                a.ack ? `acked by ${a.ack.by}` : "",
              ),
            )
            .join("\n") || "No alerts.",
      ),
    );
  alerts
    .command("show <fingerprint>")
    .description("one alert with its history and deliveries")
    .action((fp: string, _o: object, c: Command) =>
      print(
        c,
        (api) => api.alert(fp),
        (v) =>
          [
            line(v.alert.status.toUpperCase(), v.alert.severity, v.alert.summary),
            `since ${v.alert.startsAt}${v.alert.endsAt ? ` until ${v.alert.endsAt}` : ""}`,
            v.alert.ack ? `acknowledged by ${v.alert.ack.by} at ${v.alert.ack.at}` : "not acknowledged",
            "",
            "History:",
            ...v.history.map((e: any) => `  ${line(e.at, e.kind, e.actor, e.detail?.receiver)}`),
            "",
            "Deliveries:",
            ...v.deliveries.map(
              (d: any) =>
                `  ${line(d.id, d.receiver, d.action, d.status, `attempts ${d.attempts}`, d.deadReason)}`,
            ),
          ].join("\n"),
      ),
    );
  alerts
    .command("ack <fingerprint>")
    .description("acknowledge an alert (PagerDuty incidents are acknowledged too)")
    .option("-c, --comment <text>", "a note", "")
    .action((fp: string, o: { comment: string }, c: Command) =>
      print(
        c,
        (api) => api.ack(fp, o.comment),
        (v) => `Acknowledged ${fp} as ${v.alert.ack.by}.`,
      ),
    );

  const deliveries = notifier.command("deliveries").description("messages sent to receivers; dead letters");
  deliveries
    .command("list")
    .option("--dead", "only dead-lettered deliveries")
    .option("--receiver <name>", "one receiver")
    .option("--limit <n>", "how many", positiveInt(500), 50)
    .action((o: { dead?: boolean; receiver?: string; limit: number }, c: Command) =>
      print(
        c,
        (api) =>
          api.deliveries({
            status: o.dead ? "dead" : undefined,
            receiver: o.receiver,
            limit: String(o.limit),
          }),
        (v) =>
          v.items
            .map((d: any) =>
              line(
                d.id,
                d.status,
                d.receiver,
                d.action,
                `attempts ${d.attempts}/${d.maxAttempts}`,
                d.deadReason ?? d.lastError,
                d.title,
              ),
            )
            .join("\n") || "No deliveries.",
      ),
    );
  deliveries
    .command("resend <id>")
    .description("send a dead-lettered delivery again")
    .action((id: string, _o: object, c: Command) =>
      print(
        c,
        (api) => api.resend(id),
        (v) => `Delivery ${v.id} queued again.`,
      ),
    );
}
