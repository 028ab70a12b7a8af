import { ApiErrorBody } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import { mayView } from "../http/access.js";
import type { FindingStore } from "./finding-store.js";
import { FindingDto, FindingQuery } from "./finding-types.js";

export function registerFindingRoutes(
  app: App,
  deps: { pool: Pool; findings: Pick<FindingStore, "list"> },
): void {
  app.get(
    "/v1/findings",
    {
      // Rows are filtered per namespace/environment below; the route itself needs any viewer grant.
      config: {
        access: {
          role: "viewer",
          scope: (req) => {
            const q = req.query as { namespace?: string; environment?: string };
            return { namespace: q.namespace, environment: q.environment };
          },
        },
      },
      schema: {
        tags: ["findings"],
        summary: "Drift findings (active by default), newest first",
        querystring: FindingQuery,
        response: { 200: z.object({ items: z.array(FindingDto) }), 400: ApiErrorBody, 403: ApiErrorBody },
      },
    },
    async (request) => {
      const rows = await deps.findings.list(deps.pool, request.query);
      return {
        items: rows.filter((f) => mayView(request, { namespace: f.namespace, environment: f.environment })),
      };
    },
  );
}
