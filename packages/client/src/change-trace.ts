import { NEXUS_REVISION } from "@nexus/contracts";
import { type Context, context, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { reasonOf } from "./errors.js";
import { identityAttributes, inApplySpan, type TraceIdentity } from "./tracing.js";

/**
 * Which trace the client's work belongs to: the receipt of the latest `config.changed` it acts
 * on, until the ack of that revision (or a later one) leaves; and the `apply config` span of the
 * pass running now. No-ops (invalid spans) unless an OpenTelemetry SDK is registered, except that
 * the receipt's context still holds the incoming traceparent, which the ack then carries.
 */
export class ChangeTrace {
  private change: { revision: number; trace: Context } | undefined;
  private pass: { span: Span; trace: Context } | undefined;

  constructor(readonly identity: TraceIdentity) {}

  /** A change to act on arrived; `receipt` is its CONSUMER span's context. */
  received(revision: number, receipt: Context): void {
    this.change = { revision, trace: receipt };
  }

  /** Nothing will apply that change now (reads gave up on it): later passes are not its trace. */
  forget(): void {
    this.change = undefined;
  }

  /**
   * Run one sync pass: in an `apply config` span under the change's receipt when it serves one,
   * in a new trace for a resync (`forced`); untraced otherwise (polls, reconnects). `pass`
   * resolves to the error that ended it, if any (the span is then marked failed).
   */
  run(reasons: Iterable<string>, forced: boolean, pass: () => Promise<unknown>): Promise<unknown> {
    const change = this.change;
    // Explicit parents, never the ambient context: a timer or a NATS callback carries whatever
    // was active when it was armed (an earlier pass, the application's span around connectConfig).
    if (!change && !forced) return context.with(ROOT_CONTEXT, pass);
    const attributes = { ...identityAttributes(this.identity), "nexus.sync.reasons": [...reasons] };
    return inApplySpan(change?.trace ?? ROOT_CONTEXT, attributes, async (span, spanTrace) => {
      this.pass = { span, trace: spanTrace };
      try {
        const failure = await pass();
        if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: reasonOf(failure) });
        return failure;
      } finally {
        this.pass = undefined;
      }
    });
  }

  /** What the running pass did (`applied`, `rejected`, `unchanged`, `held`, ...). */
  outcome(outcome: string, revision: number): void {
    this.pass?.span.setAttributes({ "nexus.config.outcome": outcome, [NEXUS_REVISION]: revision });
  }

  /**
   * The parent of an ack of `revision`: the pass that sent it, or the receipt of the change it
   * answers (the announced revision or a later one; that change is then answered); a trace of
   * its own otherwise (the initial ack).
   */
  ackParent(revision: number): Context {
    const change = this.change && revision >= this.change.revision ? this.change : undefined;
    if (change) this.change = undefined;
    return this.pass?.trace ?? change?.trace ?? ROOT_CONTEXT;
  }

  /** Put on a receipt span: what the client decided about the event. */
  static decided(receipt: Context, decision: string): void {
    trace.getSpan(receipt)?.setAttribute("nexus.config.decision", decision);
  }
}
