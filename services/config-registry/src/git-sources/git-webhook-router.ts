import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { GIT_PROVIDERS, type GitProvider } from "./git-source-types.js";
import type { GitWebhookService } from "./git-webhook-service.js";

const Answer = z.object({
  status: z.enum(["accepted", "duplicate", "ignored", "pong"]),
  deliveryId: z.string().nullable(),
  reason: z.string().optional(),
  sources: z.array(z.string()).optional(),
});

const HEADERS: Record<GitProvider, string> = {
  github:
    "`X-Hub-Signature-256` (HMAC-SHA256 of the body), `X-GitHub-Event` (`push`; `ping` is answered), `X-GitHub-Delivery`.",
  gitlab:
    "`X-Gitlab-Token` (the source's webhook secret), `X-Gitlab-Event: Push Hook`, `X-Gitlab-Event-UUID`; with a signing secret, the Standard Webhooks `webhook-id`, `webhook-timestamp` and `webhook-signature` too (a timestamp outside the tolerance is refused).",
  gitea: "`X-Gitea-Signature` (hex HMAC-SHA256 of the body), `X-Gitea-Event: push`, `X-Gitea-Delivery`.",
  bitbucket:
    "`X-Hub-Signature: sha256=...` (HMAC-SHA256 of the body), `X-Event-Key: repo:push`, `X-Request-UUID`.",
};

/**
 * `POST /v1/webhooks/<provider>`, in a plugin of their own whose only body parser hands the raw
 * bytes over untouched: the signature is checked over exactly what the provider signed, before
 * anything is parsed. Routes elsewhere keep the app's JSON/YAML parsers.
 */
export function registerGitWebhookRoutes(
  app: App,
  deps: { webhooks: GitWebhookService; bodyLimit: number },
): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: deps.bodyLimit },
      (_request, body, done) => done(null, body),
    );
    for (const provider of GIT_PROVIDERS) {
      scope.post(
        `/v1/webhooks/${provider}`,
        {
          bodyLimit: deps.bodyLimit,
          config: { access: { public: true, reason: "signature over the raw body" } },
          schema: {
            tags: ["git-sources"],
            summary: `Receive a ${provider} push webhook`,
            description: `${HEADERS[provider]} Answers 202 at once (the import runs from the \`git.pushed\` event); a replayed delivery id answers 200 and imports nothing; other events answer 202 ignored.`,
            response: {
              200: Answer,
              202: Answer,
              400: ApiErrorBody,
              401: ApiErrorBody,
              404: ApiErrorBody,
              413: ApiErrorBody,
            },
          },
        },
        async (request, reply) => {
          const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const answer = await deps.webhooks.receive(provider, raw, request.headers);
          return reply.status(answer.statusCode).send(answer.body);
        },
      );
    }
  });
}
