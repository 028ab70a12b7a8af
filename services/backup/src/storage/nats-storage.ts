import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { StorageType } from "@nats-io/jetstream";
import { type ObjectStore, Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { assertSafeKey, type BundleStorage, StorageNotFoundError } from "./storage-types.js";

export interface NatsStorageConfig {
  nc: NatsConnection;
  /** The object store bucket (a JetStream stream `OBJ_<bucket>`, file storage). */
  bucket: string;
  replicas?: number;
}

/**
 * Bundles in a NATS JetStream object store. Objects are written in chunks as they stream in (the
 * client purges the chunks of a put that fails) and their digest is checked by the client on
 * read, besides the manifest's own sha256.
 */
export function createNatsStorage(config: NatsStorageConfig): BundleStorage {
  let opened: Promise<ObjectStore> | undefined;
  const store = () => {
    opened ??= new Objm(config.nc)
      .create(config.bucket, {
        description: "Nexus backup bundles",
        storage: StorageType.File,
        replicas: config.replicas ?? 1,
      })
      .catch((err) => {
        opened = undefined;
        throw err;
      });
    return opened;
  };

  return {
    description: `nats:${config.bucket}`,
    async put(key, body) {
      assertSafeKey(key);
      await (await store()).put(
        { name: key },
        Readable.toWeb(body) as unknown as globalThis.ReadableStream<Uint8Array>,
      );
    },
    async get(key) {
      assertSafeKey(key);
      const result = await (await store()).get(key);
      if (!result) throw new StorageNotFoundError(key);
      const stream = Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>);
      // The client checks the object's digest at its end and reports a mismatch here.
      void result.error.then((err) => {
        if (err) stream.destroy(err);
      });
      return stream;
    },
    async list(prefix) {
      const infos = await (await store()).list();
      return infos
        .filter((i) => !i.deleted && i.name.startsWith(prefix))
        .map((i) => i.name)
        .sort();
    },
    async removePrefix(prefix) {
      assertSafeKey(prefix);
      const os = await store();
      for (const name of await this.list(prefix)) await os.delete(name);
    },
    async close() {},
  };
}
