import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { access } from "../http/access-scopes.js";
import { callerOf } from "../http/caller.js";
import { committedAuditOf } from "../http/request-context.js";
import type { ChangeRequestService } from "./change-request-service.js";
import {
  ChangeRequestDto,
  ChangeRequestParams,
  ChangeRequestQuery,
  DecisionBody,
} from "./change-request-types.js";

const tags = ["change requests"];
const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
};

/** Grants are checked per request against the change's namespace and layer (it must be loaded first). */
export function registerChangeRequestRoutes(app: App, deps: { changeRequests: ChangeRequestService }): void {
  const { changeRequests } = deps;

  app.get(
    "/v1/change-requests",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "Change requests this token may see, newest first",
        querystring: ChangeRequestQuery,
        response: { 200: z.object({ items: z.array(ChangeRequestDto) }), ...errors },
      },
    },
    async (request) => ({ items: await changeRequests.list(request.query, callerOf(request)) }),
  );

  app.get(
    "/v1/change-requests/:id",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "One change request with the proposed layer",
        params: ChangeRequestParams,
        response: { 200: ChangeRequestDto, ...errors },
      },
    },
    async (request) => changeRequests.get(request.params.id, callerOf(request)),
  );

  app.post(
    "/v1/change-requests/:id/approve",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "Approve and apply a change request (approver role; not its author)",
        description:
          "Writes the proposed layer as a new revision (source `change-request:<id>`, author the requester). Refused with 409 if the layer changed since the request was made.",
        params: ChangeRequestParams,
        body: DecisionBody,
        response: { 200: ChangeRequestDto, ...errors },
      },
    },
    async (request) =>
      changeRequests.approve(request.params.id, request.body.comment, callerOf(request), {
        entry: committedAuditOf(request),
        committed: () => {
          request.auditCommitted = true;
        },
      }),
  );

  app.post(
    "/v1/change-requests/:id/reject",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "Reject a change request (approver role; not its author); nothing is written",
        params: ChangeRequestParams,
        body: DecisionBody,
        response: { 200: ChangeRequestDto, ...errors },
      },
    },
    async (request) => changeRequests.reject(request.params.id, request.body.comment, callerOf(request)),
  );
}
