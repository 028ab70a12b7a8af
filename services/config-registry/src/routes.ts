import { type App, registerAuditRoutes } from "@nexus/kit";
import { registerGitSourceRoutes } from "./git-sources/git-source-router.js";
import { registerGitWebhookRoutes } from "./git-sources/git-webhook-router.js";
import { registerConfigContentParsers } from "./http/content-parsers.js";
import { registerSecretReadHeaders } from "./http/secret-read-headers.js";
import { registerLayerRoutes } from "./layers/layer-router.js";
import { registerNamespaceRoutes } from "./namespaces/namespace-router.js";
import { registerResolveRoutes } from "./resolve/resolve-router.js";
import { registerRevisionRoutes } from "./revisions/revision-router.js";
import { registerSchemaRoutes } from "./schemas/schema-router.js";
import { registerSecretRoutes } from "./secrets/secret-router.js";
import { registerTokenRoutes } from "./tokens/token-router.js";
import { registerChangeRequestRoutes } from "./writes/change-request-router.js";
import { registerNamespaceChangeRoutes } from "./writes/namespace-change-router.js";
import { registerWriteRoutes } from "./writes/write-router.js";

/** What the routes call: each domain's router takes its part (the types are the routers' own). */
export type RegistryRouteDeps = Parameters<typeof registerNamespaceRoutes>[1] &
  Parameters<typeof registerNamespaceChangeRoutes>[1] &
  Parameters<typeof registerLayerRoutes>[1] &
  Parameters<typeof registerWriteRoutes>[1] &
  Parameters<typeof registerRevisionRoutes>[1] &
  Parameters<typeof registerChangeRequestRoutes>[1] &
  Parameters<typeof registerSchemaRoutes>[1] &
  Parameters<typeof registerResolveRoutes>[1] &
  Parameters<typeof registerSecretRoutes>[1] &
  Parameters<typeof registerTokenRoutes>[1] & {
    audit: Parameters<typeof registerAuditRoutes>[1];
    gitSources: Parameters<typeof registerGitSourceRoutes>[1];
    gitWebhooks: Parameters<typeof registerGitWebhookRoutes>[1];
  };

/** The registry's HTTP API: its body parsers and headers, then every domain's routes. */
export function registerRoutes(app: App, deps: RegistryRouteDeps): void {
  registerConfigContentParsers(app);
  registerSecretReadHeaders(app);
  registerNamespaceRoutes(app, deps);
  registerNamespaceChangeRoutes(app, deps);
  registerLayerRoutes(app, deps);
  registerWriteRoutes(app, deps);
  registerRevisionRoutes(app, deps);
  registerChangeRequestRoutes(app, deps);
  registerSchemaRoutes(app, deps);
  registerResolveRoutes(app, deps);
  registerSecretRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerAuditRoutes(app, deps.audit);
  registerGitSourceRoutes(app, deps.gitSources);
  registerGitWebhookRoutes(app, deps.gitWebhooks);
}
