import { ApiErrorBody, NamespaceName, RevisionTimelineDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { tokenOf } from "../http/request-meta.js";
import type { TimelineService } from "./timeline-service.js";

const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  503: ApiErrorBody,
};

/** `nexus trace`: what happened to one revision, from the write to the last notification. */
export function registerTimelineRoutes(app: App, deps: { timeline: TimelineService }): void {
  app.get(
    "/v1/namespaces/:ns/revisions/:n/timeline",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["timeline"],
        summary:
          "One change end to end: written, published, each instance's ack, drift, notifications and pipeline runs, in time order",
        description:
          "Asked of the registry, the drift-detector, the notifier and the orchestrator with the caller's own token; parts a service cannot give are listed in `missing`. 404 when the registry has no such revision (or the caller may not view the namespace).",
        params: z.object({ ns: NamespaceName, n: z.coerce.number().int().min(1).max(2_147_483_647) }),
        response: { 200: RevisionTimelineDto, ...errors },
      },
    },
    async (request) => deps.timeline.revision(request.params.ns, request.params.n, tokenOf(request)),
  );
}
