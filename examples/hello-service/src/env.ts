import { z } from "zod";

/** The example's own settings, from the environment (an application may read it; the SDK never does). */
const Env = z.object({
  NEXUS_URL: z.url().optional(),
  NEXUS_TOKEN: z.string().min(1).optional(),
  NATS_URL: z.string().min(1).optional(),
  NATS_PREFIX: z.string().default("nexus"),
  NEXUS_NAMESPACE: z.string().default("hello"),
  NEXUS_ENVIRONMENT: z.string().default("development"),
  NEXUS_CACHE_FILE: z.string().default(".nexus/hello-service.last-known-good.json"),
  NEXUS_INSTANCE_ID: z.string().optional(),
  HEARTBEAT_SECONDS: z.coerce.number().int().positive().default(30),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4300),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
export type HelloEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): HelloEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      console.error(`invalid ${issue.path.join(".")}: ${issue.message}`);
    process.exit(78);
  }
  return parsed.data;
}
