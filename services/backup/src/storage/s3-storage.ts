import type { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertSafeKey, type BundleStorage, StorageNotFoundError } from "./storage-types.js";

export interface S3StorageConfig {
  bucket: string;
  /** Key prefix inside the bucket, e.g. `nexus/`; empty for the bucket's root. */
  prefix: string;
  region: string;
  /** An S3-compatible server (MinIO, Ceph, s3rver); unset for AWS. */
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/**
 * Bundles in an S3-compatible bucket (AWS SDK v3). Parts are streamed as multipart uploads
 * (lib-storage: 5 MiB parts, a few in flight), so a large part is never held whole; an upload
 * that fails is aborted, leaving no object.
 */
export function createS3Storage(config: S3StorageConfig): BundleStorage {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
  });
  const full = (key: string) => {
    assertSafeKey(key);
    return `${config.prefix}${key}`;
  };

  async function listAll(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: config.bucket,
          Prefix: `${config.prefix}${prefix}`,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(config.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  return {
    description: `s3:${config.bucket}/${config.prefix}`,
    async put(key, body: Readable) {
      const upload = new Upload({
        client,
        params: { Bucket: config.bucket, Key: full(key), Body: body },
        queueSize: 2,
        leavePartsOnError: false,
      });
      await upload.done();
    },
    async get(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: config.bucket, Key: full(key) }));
        return res.Body as Readable;
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey")
          throw new StorageNotFoundError(key);
        throw err;
      }
    },
    list: listAll,
    async removePrefix(prefix) {
      assertSafeKey(prefix);
      const keys = await listAll(prefix);
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(
          new DeleteObjectsCommand({
            Bucket: config.bucket,
            Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: `${config.prefix}${k}` })) },
          }),
        );
      }
    },
    async close() {
      client.destroy();
    },
  };
}
