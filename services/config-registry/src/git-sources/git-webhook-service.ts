import { GIT_PUSHED, type GitPushed } from "@nexus/contracts";
import {
  BadRequestError,
  type Bus,
  enqueueEvents,
  type Logger,
  NotFoundError,
  type Pool,
  prepareOutboxRows,
  UnauthorizedError,
  withTransaction,
} from "@nexus/kit";
import { Counter, type Registry } from "prom-client";
import { branchesOf, branchOfRef } from "./git-source-fns.js";
import type { GitSourceService } from "./git-source-service.js";
import type { GitSourceStore } from "./git-source-store.js";
import type { GitProvider, GitSource } from "./git-source-types.js";
import { deliveryHeaders, pushOf, verifyDelivery } from "./git-webhook-fns.js";

export interface WebhookAnswer {
  statusCode: 200 | 202;
  body: {
    status: "accepted" | "duplicate" | "ignored" | "pong";
    deliveryId: string | null;
    reason?: string;
    sources?: string[];
  };
}

/**
 * Webhook intake: verify the raw body against the secrets of the provider's sources, then (and
 * only then) parse it, drop replays by delivery id, and publish `git.pushed` per bound source
 * through the outbox. The import itself runs from that event, so the provider gets its answer
 * in milliseconds whatever the fetch costs.
 */
export function createGitWebhookService(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  store: Pick<GitSourceStore, "findByProvider" | "recordDelivery">;
  sources: Pick<GitSourceService, "webhookSecretsOf">;
  wakeOutbox: () => void;
  logger: Pick<Logger, "warn" | "info">;
  metrics: Registry;
  toleranceSeconds: number;
}) {
  const rejected = new Counter({
    name: "nexus_git_webhook_rejections_total",
    help: "Webhook deliveries refused for a missing or wrong signature",
    labelNames: ["provider"] as const,
    registers: [deps.metrics],
  });

  async function verifiedSources(
    provider: GitProvider,
    raw: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ) {
    const candidates = await deps.store.findByProvider(deps.pool, provider);
    if (candidates.length === 0)
      throw new NotFoundError("unknown_repository", `No Git source receives ${provider} webhooks`, {
        field: "repository",
      });
    const clock = { nowSeconds: Math.floor(Date.now() / 1000), toleranceSeconds: deps.toleranceSeconds };
    const matched: GitSource[] = [];
    let reason = "";
    let field = "headers";
    for (const source of candidates) {
      const verdict = await verifyDelivery(
        provider,
        raw,
        headers,
        await deps.sources.webhookSecretsOf(deps.pool, source),
        clock,
      );
      if (verdict.ok) matched.push(source);
      else if (!reason) ({ reason, field } = verdict);
    }
    return { matched, reason, field };
  }

  return {
    async receive(
      provider: GitProvider,
      raw: Buffer,
      headers: Record<string, string | string[] | undefined>,
    ): Promise<WebhookAnswer> {
      const h = deliveryHeaders(provider, headers);
      const { matched, reason, field } = await verifiedSources(provider, raw, headers);
      if (matched.length === 0) {
        rejected.inc({ provider });
        deps.logger.warn(
          { provider, deliveryId: h.deliveryId, reason },
          "refused a webhook delivery: bad or missing signature",
        );
        throw new UnauthorizedError(
          "webhook_signature_invalid",
          `The webhook signature is missing or wrong: ${reason}`,
          { field },
        );
      }
      if (h.isPing) return { statusCode: 200, body: { status: "pong", deliveryId: h.deliveryId } };
      if (!h.isPush)
        return {
          statusCode: 202,
          body: {
            status: "ignored",
            deliveryId: h.deliveryId,
            reason: `event ${h.event ?? "(none)"} is not a push`,
          },
        };
      if (!h.deliveryId)
        throw new BadRequestError("malformed_webhook", "The delivery has no delivery id header", {
          field: "headers",
        });
      let payload: unknown;
      try {
        payload = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new BadRequestError("malformed_webhook", "The payload is not JSON", { field: "body" });
      }
      const push = pushOf(provider, payload);
      if ("malformed" in push)
        throw new BadRequestError("malformed_webhook", `The push payload ${push.malformed}`, {
          field: "body",
        });
      const sameRepo = matched.filter((s) => s.repository.toLowerCase() === push.repository.toLowerCase());
      if (sameRepo.length === 0)
        throw new NotFoundError("unknown_repository", `No Git source follows repository ${push.repository}`, {
          field: "repository",
        });
      const branch = branchOfRef(push.ref);
      const ignored = (why: string): WebhookAnswer => ({
        statusCode: 202,
        body: { status: "ignored", deliveryId: h.deliveryId, reason: why },
      });
      if (branch === null) return ignored(`${push.ref} is not a branch`);
      if (push.deleted) return ignored(`branch ${branch} was deleted`);
      const targets = sameRepo.filter((s) => branchesOf(s).includes(branch));
      if (targets.length === 0) return ignored(`no source follows branch ${branch}`);
      const deliveryId = h.deliveryId;
      const fresh = await withTransaction(deps.pool, async (client) => {
        if (!(await deps.store.recordDelivery(client, provider, deliveryId))) return false;
        const events: GitPushed[] = targets.map((s) => ({
          schemaVersion: 1,
          sourceId: s.id,
          sourceName: s.name,
          provider,
          repository: push.repository,
          ref: push.ref,
          before: push.before,
          after: push.after,
          changedFiles: push.changedFiles,
          deliveryId,
        }));
        await enqueueEvents(client, prepareOutboxRows(deps.bus, GIT_PUSHED, events));
        return true;
      });
      if (!fresh) return { statusCode: 200, body: { status: "duplicate", deliveryId } };
      deps.wakeOutbox();
      return {
        statusCode: 202,
        body: { status: "accepted", deliveryId, sources: targets.map((s) => s.name) },
      };
    },
  };
}
export type GitWebhookService = ReturnType<typeof createGitWebhookService>;
