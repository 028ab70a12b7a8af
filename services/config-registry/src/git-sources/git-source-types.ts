import { EnvironmentName, GitImportProblem, NamespaceName, ResourceName } from "@nexus/contracts";
import { z } from "zod";

export const GIT_PROVIDERS = ["github", "gitlab", "gitea", "bitbucket"] as const;
export const GitProvider = z.enum(GIT_PROVIDERS);
export type GitProvider = z.infer<typeof GitProvider>;

/** https://, ssh://, scp-like `git@host:path`, or file:// (local repositories). */
export const RepositoryUrl = z
  .string()
  .max(2000)
  .refine(
    (u) => /^(https|ssh|file):\/\/[^\s]+$/.test(u) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(u),
    "must be an https://, ssh://, file:// or user@host:path repository URL",
  )
  .refine((u) => !/^https:\/\/[^/]*@/.test(u), "must not carry credentials; send them in `credentials`");

export const BranchName = z
  .string()
  .min(1)
  .max(250)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, "must be a plain branch name");

const PathTemplate = z
  .string()
  .min(1)
  .max(500)
  .regex(
    /^(?!\/)(?!.*\.\.)[A-Za-z0-9._/<>-]+$/,
    "must be a relative path (placeholders <namespace>, <environment>)",
  )
  .refine((p) => /\.(ya?ml|json|env)$/.test(p), "must end in .yaml, .yml, .json or .env");

export const Layout = z.strictObject({
  base: PathTemplate.default("config/<namespace>/base.yaml"),
  environment: PathTemplate.default("config/<namespace>/<environment>.yaml").refine(
    (p) => p.includes("<environment>"),
    "must contain <environment>",
  ),
});
export type Layout = z.infer<typeof Layout>;

export const Credentials = z
  .strictObject({
    username: z.string().min(1).max(200).optional(),
    token: z.string().min(1).max(4000).optional().describe("https: password or access token"),
    sshPrivateKey: z.string().min(1).max(20_000).optional().describe("ssh: a private key (OpenSSH format)"),
  })
  .refine((c) => c.token !== undefined || c.sshPrivateKey !== undefined, "needs a token or an sshPrivateKey");
export type Credentials = z.infer<typeof Credentials>;

const Secret = z.string().min(8).max(500);

export const CreateGitSourceBody = z.strictObject({
  name: ResourceName,
  provider: GitProvider,
  url: RepositoryUrl,
  repository: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe("The provider's full name (`owner/name`) webhooks carry; default: from the URL's path"),
  namespaces: z.array(NamespaceName).min(1).max(1000),
  environments: z
    .record(EnvironmentName, BranchName)
    .refine((e) => Object.keys(e).length > 0, "map at least one environment to a branch")
    .describe("Environment -> the branch its overlay comes from, e.g. {production: main, staging: staging}"),
  baseBranch: BranchName.nullable()
    .default(null)
    .describe("Branch the base layers come from; null: base stays in Nexus"),
  layout: Layout.default({
    base: "config/<namespace>/base.yaml",
    environment: "config/<namespace>/<environment>.yaml",
  }),
  credentials: Credentials.optional(),
  webhookSecret: Secret.optional().describe("GitHub/Gitea/Bitbucket HMAC secret, GitLab token"),
  signingSecret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/)
    .optional()
    .describe("GitLab: Standard Webhooks signing secret (whsec_...); when set, signed headers are required"),
});
export type CreateGitSourceBody = z.infer<typeof CreateGitSourceBody>;

export const UpdateGitSourceBody = z.strictObject({
  url: RepositoryUrl.optional(),
  repository: z.string().min(1).max(500).optional(),
  namespaces: z.array(NamespaceName).min(1).max(1000).optional(),
  environments: z.record(EnvironmentName, BranchName).optional(),
  baseBranch: BranchName.nullable().optional(),
  layout: Layout.optional(),
  credentials: Credentials.nullable().optional(),
  webhookSecret: Secret.nullable().optional(),
  signingSecret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/)
    .nullable()
    .optional(),
});
export type UpdateGitSourceBody = z.infer<typeof UpdateGitSourceBody>;

/** A source as stored; secrets sealed (`{"$secret": {...}}` documents). */
export interface GitSource {
  id: string;
  name: string;
  provider: GitProvider;
  url: string;
  repository: string;
  namespaces: string[];
  environments: Record<string, string>;
  baseBranch: string | null;
  layout: Layout;
  keyNamespace: string;
  credentials: Record<string, unknown> | null;
  webhookSecret: Record<string, unknown> | null;
  signingSecret: Record<string, unknown> | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** One layer a source owns. */
export interface BoundLayer {
  namespace: string;
  layer: string;
  branch: string;
  path: string;
}

export const GitSourceParams = z.object({ name: ResourceName });

export const GitSourceDto = z.object({
  id: z.string(),
  name: z.string(),
  provider: GitProvider,
  url: z.string(),
  repository: z.string(),
  namespaces: z.array(z.string()),
  environments: z.record(z.string(), z.string()),
  baseBranch: z.string().nullable(),
  layout: z.object({ base: z.string(), environment: z.string() }),
  hasCredentials: z.boolean(),
  hasWebhookSecret: z.boolean(),
  hasSigningSecret: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type GitSourceDto = z.infer<typeof GitSourceDto>;

export const ImportTrigger = z.enum(["webhook", "reconcile", "resync"]);
export type ImportTrigger = z.infer<typeof ImportTrigger>;

export const ImportLayerDto = z.object({
  namespace: z.string(),
  layer: z.string(),
  path: z.string(),
  revision: z.number().int(),
});

export const GitImportDto = z.object({
  id: z.string(),
  branch: z.string(),
  commit: z.string(),
  trigger: ImportTrigger,
  deliveryId: z.string().nullable(),
  status: z.enum(["applied", "unchanged", "failed"]),
  layers: z.array(ImportLayerDto),
  problems: z.array(GitImportProblem),
  author: z.string().nullable(),
  message: z.string().nullable(),
  createdAt: z.string(),
});
export type GitImportDto = z.infer<typeof GitImportDto>;

export const BoundLayerDto = z.object({
  namespace: z.string(),
  layer: z.string(),
  branch: z.string(),
  path: z.string(),
  commit: z.string().nullable().describe("The commit last imported into this layer"),
  contentHash: z.string().nullable().describe("The layer's content hash right after that import"),
  revision: z.number().int().nullable(),
  importedAt: z.string().nullable(),
  overriddenBy: z
    .string()
    .nullable()
    .describe("Who last wrote this layer through the API with ?override=git"),
  overriddenAt: z.string().nullable(),
  overrideRevision: z.number().int().nullable(),
});
export type BoundLayerDto = z.infer<typeof BoundLayerDto>;
