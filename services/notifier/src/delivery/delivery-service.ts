import { ConflictError, NotFoundError, type Pool } from "@nexus/kit";
import { type DeliveryStore, toDeliveryDto } from "./delivery-store.js";

export function createDeliveryService(deps: { pool: Pool; store: DeliveryStore; wakeSender: () => void }) {
  const { pool, store } = deps;
  return {
    async list(f: {
      status?: string | undefined;
      receiver?: string | undefined;
      fingerprint?: string | undefined;
      limit: number;
    }) {
      return (await store.list(pool, f)).map(toDeliveryDto);
    },
    async get(id: string) {
      const row = await store.find(pool, id);
      if (!row) throw new NotFoundError("delivery_not_found", `no delivery ${id}`, { field: "id" });
      return toDeliveryDto(row);
    },
    /** A dead-lettered delivery goes out again, same message and dedup key, with fresh attempts. */
    async resend(id: string) {
      const row = await store.resend(pool, id);
      if (!row) {
        const existing = await store.find(pool, id);
        if (!existing) throw new NotFoundError("delivery_not_found", `no delivery ${id}`, { field: "id" });
        throw new ConflictError(
          "not_dead",
          `delivery ${id} is ${existing.status}; only dead-lettered deliveries are re-sent`,
          {
            field: "id",
          },
        );
      }
      deps.wakeSender();
      return toDeliveryDto(row);
    },
  };
}
export type DeliveryService = ReturnType<typeof createDeliveryService>;
