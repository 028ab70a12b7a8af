import { newSealingKey, parseEnv } from "@nexus/kit";
import { describe, expect, it } from "vitest";
import { backupEnvSchema } from "../../src/env.js";

const parse = (env: Record<string, string>) => parseEnv(backupEnvSchema, env);

describe("backup environment", () => {
  it("defaults to local storage of the three services' schemas, unencrypted, on schedule", () => {
    const env = parse({});
    expect(env).toMatchObject({
      PORT: 4600,
      BACKUP_SCHEMAS: ["config_registry", "drift_detector", "notifier"],
      BACKUP_STORAGE: "local",
      INCREMENTAL_CRON: "*/15 * * * *",
      SCHEDULE_ENABLED: true,
    });
    expect(env.BACKUP_ENCRYPTION_KEY).toBeUndefined();
  });

  it("names every bad variable, never a key's value", () => {
    let message = "";
    try {
      parse({
        BACKUP_SCHEMAS: "backup,config_registry",
        BACKUP_STORAGE: "s3",
        BACKUP_ENCRYPTION_KEY: "kid:c2hvcnQ=",
        INCREMENTAL_CRON: "every now and then",
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("BACKUP_SCHEMAS: must not list the backup service's own schema");
    expect(message).toContain("BACKUP_S3_BUCKET: is required when BACKUP_STORAGE=s3");
    expect(message).toContain("BACKUP_ENCRYPTION_KEY: the active key is not 32 bytes in base64");
    expect(message).toContain("INCREMENTAL_CRON: is not a cron pattern");
    expect(message).not.toContain("c2hvcnQ=");
  });

  it("takes a backup key and older keys, and an empty cron to turn a schedule off", () => {
    const env = parse({
      BACKUP_ENCRYPTION_KEY: newSealingKey("b2"),
      BACKUP_PREVIOUS_KEYS: newSealingKey("b1"),
      INCREMENTAL_CRON: "",
      VERIFY_CRON: "",
      BACKUP_STORAGE: "nats",
    });
    expect(env).toMatchObject({ INCREMENTAL_CRON: "", VERIFY_CRON: "", BACKUP_NATS_BUCKET: "nexus-backups" });
    expect(() => parse({ BACKUP_PREVIOUS_KEYS: newSealingKey("b1") })).toThrow(
      "BACKUP_ENCRYPTION_KEY: is required when BACKUP_PREVIOUS_KEYS is set",
    );
  });

  it("takes the registry a namespace restore writes through, and its token", () => {
    expect(parse({})).toMatchObject({ REGISTRY_URL: "http://127.0.0.1:4100", REGISTRY_TIMEOUT_MS: 30_000 });
    expect(parse({}).BACKUP_REGISTRY_TOKEN).toBeUndefined();
    expect(
      parse({ REGISTRY_URL: "http://config-registry:4100/", BACKUP_REGISTRY_TOKEN: "nxs_a_b" }),
    ).toMatchObject({ REGISTRY_URL: "http://config-registry:4100", BACKUP_REGISTRY_TOKEN: "nxs_a_b" });
    expect(() => parse({ REGISTRY_URL: "registry" })).toThrow("REGISTRY_URL");
  });
});
