import { z } from "zod";

/** The configuration this service runs on: namespace `hello` in Nexus. */
export const HelloConfig = z.object({
  greeting: z.string().min(1),
  audience: z.string().default("world"),
  shout: z.boolean().default(false),
});
export type HelloConfig = z.infer<typeof HelloConfig>;

export function render(config: HelloConfig): string {
  const text = `${config.greeting}, ${config.audience}!`;
  return config.shout ? text.toUpperCase() : text;
}

/**
 * What the service checks before it accepts a new config (beyond the schema): throwing here makes
 * the SDK keep the old config and report the new revision as rejected, with this message.
 */
export function assertAcceptable(config: HelloConfig): void {
  if (config.greeting.length > 80)
    throw new Error(`greeting is ${config.greeting.length} characters; 80 at most`);
}
