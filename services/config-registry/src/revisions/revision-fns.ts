/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), or null. */
export function traceIdOfTraceparent(traceparent: string | null | undefined): string | null {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? "");
  const id = match?.[1];
  return id && !/^0+$/.test(id) ? id : null;
}

/** The trace a revision was written in: its events share the writing request's traceparent. */
export function traceIdOf(traceparents: Array<string | null>): string | null {
  for (const t of traceparents) {
    const id = traceIdOfTraceparent(t);
    if (id) return id;
  }
  return null;
}
