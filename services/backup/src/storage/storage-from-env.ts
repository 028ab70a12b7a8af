import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { BackupEnv } from "../env.js";
import { createLocalStorage } from "./local-storage.js";
import { createNatsStorage } from "./nats-storage.js";
import { createS3Storage } from "./s3-storage.js";
import type { BundleStorage } from "./storage-types.js";

/** The backend the environment names (the environment check has refused incomplete settings). */
export function storageFromEnv(env: Readonly<BackupEnv>, nc: NatsConnection): BundleStorage {
  if (env.BACKUP_STORAGE === "nats")
    return createNatsStorage({ nc, bucket: env.BACKUP_NATS_BUCKET, replicas: env.BACKUP_NATS_REPLICAS });
  if (env.BACKUP_STORAGE === "s3")
    return createS3Storage({
      bucket: env.BACKUP_S3_BUCKET!,
      prefix: env.BACKUP_S3_PREFIX,
      region: env.BACKUP_S3_REGION,
      endpoint: env.BACKUP_S3_ENDPOINT,
      forcePathStyle: env.BACKUP_S3_FORCE_PATH_STYLE,
      accessKeyId: env.BACKUP_S3_ACCESS_KEY_ID,
      secretAccessKey: env.BACKUP_S3_SECRET_ACCESS_KEY,
    });
  return createLocalStorage(resolve(env.BACKUP_DIR));
}
