import { ApiErrorBody, FindingListDto, FindingQuery } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { mayView } from "../http/access.js";
import type { FindingStore } from "./finding-store.js";

export function registerFindingRoutes(
  app: App,
  deps: { pool: Pool; findings: Pick<FindingStore, "list"> },
): void {
  app.get(
    "/v1/findings",
    {
      // Any valid credential; rows are filtered below to the namespaces/environments it may view.
      config: { access: { authenticated: true } },
      schema: {
        tags: ["findings"],
        summary: "Drift findings (active by default), newest first",
        querystring: FindingQuery,
        response: { 200: FindingListDto, 400: ApiErrorBody, 403: ApiErrorBody },
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
