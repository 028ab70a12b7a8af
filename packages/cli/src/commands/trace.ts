/** `nexus trace <ns> <revision>`: one change end to end, as the monitor assembles it. */
import type { RevisionTimelineDto } from "@nexus/contracts";
import type { Command } from "commander";
import type { Io } from "../output/output.js";
import { renderTimeline } from "../output/timeline-fns.js";
import { nsArgument, parseRevision } from "./args.js";
import { monitorFor } from "./monitor.js";

export function registerTrace(program: Command, io: Io): void {
  program
    .command("trace")
    .description(
      "what happened to one revision: written, published, each instance's ack, drift, notifications, pipeline runs",
    )
    .addArgument(nsArgument())
    .argument("<revision>", "the namespace's revision", parseRevision)
    .option("--monitor-url <url>", "monitor URL (env NEXUS_MONITOR_URL; or monitorUrl in the config file)")
    .action(async (ns: string, revision: number, _options: object, command: Command) => {
      const { ctx, api } = await monitorFor(io, command);
      const timeline = (await api.timeline(ns, revision)) as RevisionTimelineDto;
      if (ctx.out.json) ctx.out.data(timeline);
      else ctx.out.text(renderTimeline(timeline));
    });
}
