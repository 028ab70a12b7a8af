import type { NatsConnection } from "@nats-io/transport-node";
import type { Context } from "@opentelemetry/api";
import type { ConfigLogger } from "./logger.js";
import { createReporter, type Reporter } from "./reporter.js";
import {
  type AppliedFacts,
  appliedReport,
  type HeartbeatFacts,
  heartbeatReport,
  type Identity,
} from "./reports.js";
import { identityAttributes } from "./tracing.js";

export interface InstanceReportsOptions {
  identity: Identity;
  prefix: string;
  logger: ConfigLogger;
  timeoutMs: number;
  heartbeatSeconds: number;
  /** What the instance runs right now, read at each heartbeat. */
  snapshot(): Omit<HeartbeatFacts, "startedAt" | "intervalSeconds">;
}

/**
 * This instance's reports on the bus: an applied-ack per outcome and a heartbeat every
 * `heartbeatSeconds`. Without NATS (or until it attaches) there is nobody to tell, and the
 * reports are skipped; the heartbeat after attaching carries the state.
 */
export class InstanceReports {
  private reporter: Reporter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: InstanceReportsOptions) {}

  attach(nc: NatsConnection): void {
    if (this.reporter) return;
    this.reporter = createReporter({
      nc,
      prefix: this.options.prefix,
      source: `nexus-client/${this.options.identity.service}`,
      logger: this.options.logger,
      timeoutMs: this.options.timeoutMs,
      traceAttributes: identityAttributes(this.options.identity),
    });
  }

  /** `trace`: the context the ack's PRODUCER span is a child of (the apply, or the change's receipt). */
  applied(facts: AppliedFacts, trace: Context): void {
    this.reporter?.applied(appliedReport(this.options.identity, facts), trace);
  }

  startHeartbeats(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.heartbeat(), this.options.heartbeatSeconds * 1_000);
    this.timer.unref();
    void this.heartbeat();
  }

  async heartbeat(status?: "stopping"): Promise<void> {
    const now = this.options.snapshot();
    await this.reporter?.heartbeat(
      heartbeatReport(this.options.identity, {
        ...now,
        status: status ?? now.status,
        startedAt: this.startedAt,
        intervalSeconds: this.options.heartbeatSeconds,
      }),
      status === "stopping",
    );
  }

  /** Stop heartbeats; with `farewell`, send the `stopping` one; wait for queued acks. */
  async stop(farewell: boolean): Promise<void> {
    clearInterval(this.timer);
    if (farewell) await this.heartbeat("stopping");
    await this.reporter?.flush(this.options.timeoutMs);
  }
}
