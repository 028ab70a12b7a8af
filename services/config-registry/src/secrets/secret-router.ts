import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import type { SecretService } from "./secret-service.js";
import { RotationReportDto } from "./secret-types.js";

export function registerSecretRoutes(app: App, deps: { secrets: Pick<SecretService, "rotate"> }): void {
  app.post(
    "/v1/admin/secrets/rotate",
    {
      config: { access: { role: "admin" } },
      schema: {
        tags: ["secrets"],
        summary: "Re-wrap every namespace's data key with the active master key",
        description:
          "Run after adding a new master key to SECRETS_MASTER_KEYS and making it SECRETS_ACTIVE_KEY_ID on every instance (keep the old key configured until this reports no failures). Secrets stay readable throughout; the run can be repeated.",
        response: { 200: RotationReportDto, 500: ApiErrorBody, 503: ApiErrorBody },
      },
    },
    async () => deps.secrets.rotate(),
  );
}
