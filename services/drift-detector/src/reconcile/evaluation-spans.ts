import {
  failSpan,
  NEXUS_ENVIRONMENT,
  NEXUS_NAMESPACE,
  NEXUS_REVISION,
  type Span,
  startWorkSpan,
  traceparentOf,
} from "@nexus/kit";
import type { TraceOf } from "../findings/finding-service.js";
import type { ActiveFinding, DesiredFinding } from "../findings/finding-types.js";
import type { HeadToEvaluate } from "../heads/head-store.js";

/**
 * The reconciler's judgement of a change, in the change's trace. A traced head is judged once
 * its grace period has passed (from then on an instance still behind is stale, so that pass is
 * the one that decides): an `evaluate drift` span, a child of the change's `send
 * config.changed`, with what the pass found for that namespace and environment. Findings the
 * pass raises there are announced under it (their `drift.detected` joins the trace, and so
 * does the notification it leads to); findings raised before (a rejected revision) join the
 * change's trace directly.
 */
export function openEvaluations(traced: readonly HeadToEvaluate[], isDue: (h: HeadToEvaluate) => boolean) {
  const due = traced.filter(isDue);
  const spans = new Map<string, { head: HeadToEvaluate; span: Span; traceparent: string | undefined }>();
  for (const head of due) {
    const span = startWorkSpan("evaluate drift", {
      traceparent: head.traceParent,
      attributes: {
        [NEXUS_NAMESPACE]: head.namespace,
        [NEXUS_ENVIRONMENT]: head.environment,
        [NEXUS_REVISION]: head.revision,
      },
    });
    spans.set(keyOf(head.namespace, head.environment), { head, span, traceparent: traceparentOf(span) });
  }
  const waiting = new Map(
    traced.filter((h) => !isDue(h)).map((h) => [keyOf(h.namespace, h.environment), h.traceParent]),
  );

  const traceOf: TraceOf = (namespace, environment) => {
    const key = keyOf(namespace, environment);
    return spans.get(key)?.traceparent ?? waiting.get(key);
  };

  return {
    traceOf,
    /** The heads judged in this pass (to mark), their spans ended with what the pass found. */
    close(found: { desired: readonly DesiredFinding[]; opened: readonly ActiveFinding[] }): HeadToEvaluate[] {
      for (const [key, { span }] of spans) {
        const here = <T extends { namespace: string; environment: string }>(list: readonly T[]) =>
          list.filter((f) => keyOf(f.namespace, f.environment) === key);
        const opened = here(found.opened);
        span.setAttribute("nexus.drift.findings_wanted", here(found.desired).length);
        span.setAttribute("nexus.drift.findings_opened", opened.length);
        if (opened.length)
          span.setAttribute(
            "nexus.drift.finding_ids",
            opened.map((f) => f.id),
          );
        span.end();
      }
      return due;
    },
    /** The pass failed: the spans say so, and the heads stay to be judged again. */
    fail(err: unknown): void {
      for (const { span } of spans.values()) {
        failSpan(span, err);
        span.end();
      }
    },
  };
}

const keyOf = (namespace: string, environment: string) => `${namespace}/${environment}`;
