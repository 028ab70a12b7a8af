import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  type ContextManager,
  context,
  createContextKey,
  ROOT_CONTEXT,
} from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindActiveContext } from "../../src/index.js";

/** The context manager the SDK registers, in its smallest form: contexts carried by AsyncLocalStorage. */
class StorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active = () => this.storage.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable = () => this;
  disable = () => this;
}

describe("bindActiveContext", () => {
  const request = createContextKey("request");
  beforeAll(() => {
    context.setGlobalContextManager(new StorageContextManager());
  });
  afterAll(() => context.disable());

  it("runs work later, from another request's callback, in the context it was queued in", async () => {
    const queue: (<T>(fn: () => T) => T)[] = [];
    context.with(context.active().setValue(request, "first"), () => queue.push(bindActiveContext()));
    const seen = await context.with(context.active().setValue(request, "second"), async () => {
      await Promise.resolve();
      return queue[0]!(() => context.active().getValue(request));
    });
    expect(seen).toBe("first");
  });
});
