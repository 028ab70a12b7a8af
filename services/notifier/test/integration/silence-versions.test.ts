import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startNotifier } from "./harness.js";

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe("silences are versioned", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startNotifier();
  });
  afterAll(async () => h?.close());

  it("numbers every create, edit and early end, with author, comment and what changed", async () => {
    const created = await h.call("POST", "/v1/silences", {
      matchers: [{ label: "namespace", op: "=", value: "payments" }],
      endsAt: inAnHour(),
      comment: "deploy of payments-api",
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const newEnd = new Date(Date.now() + 7_200_000).toISOString();
    const edited = await h.call("PATCH", `/v1/silences/${id}`, {
      endsAt: newEnd,
      changeComment: "the deploy runs long",
    });
    expect(edited.status).toBe(200);
    expect(edited.body.endsAt).toBe(newEnd);

    // Saying the same again changes nothing and writes no version.
    expect((await h.call("PATCH", `/v1/silences/${id}`, { endsAt: newEnd })).status).toBe(200);

    const ended = await h.call("DELETE", `/v1/silences/${id}?comment=deploy%20done`);
    expect(ended.body.state).toBe("expired");
    // Ending it again is no change either.
    expect((await h.call("DELETE", `/v1/silences/${id}`)).status).toBe(200);

    const list = await h.call("GET", `/v1/silences/versions?silence=${id}`);
    expect(list.status).toBe(200);
    const items = list.body.items as { version: number; action: string }[];
    expect(items.map((v) => v.action)).toEqual(["expired", "edited", "created"]);
    expect(items.map((v) => v.version)).toEqual([
      items[2]!.version + 2,
      items[2]!.version + 1,
      items[2]!.version,
    ]);

    const edit = await h.call("GET", `/v1/silences/versions/${items[1]!.version}`);
    expect(edit.body).toMatchObject({
      silenceId: id,
      action: "edited",
      author: "tester",
      comment: "the deploy runs long",
      changes: [{ field: "endsAt", from: created.body.endsAt, to: newEnd }],
      silence: { id, endsAt: newEnd, expiredBy: null },
    });
    const end = await h.call("GET", `/v1/silences/versions/${items[0]!.version}`);
    expect(end.body).toMatchObject({ action: "expired", author: "tester", comment: "deploy done" });
    expect(end.body.changes.map((c: { field: string }) => c.field).sort()).toEqual(["endsAt", "expiredBy"]);
    const first = await h.call("GET", `/v1/silences/versions/${items[2]!.version}`);
    expect(first.body).toMatchObject({ action: "created", comment: "deploy of payments-api" });
    expect(first.body.changes.find((c: { field: string }) => c.field === "matchers")).toMatchObject({
      from: null,
      to: [{ label: "namespace", op: "=", value: "payments" }],
    });
  });

  it("keeps versions immutable in the database", async () => {
    await expect(
      h.db.pool.query("UPDATE notifier.silence_versions SET author = 'someone else'"),
    ).rejects.toThrow(/immutable/);
    await expect(h.db.pool.query("DELETE FROM notifier.silence_versions")).rejects.toThrow(/immutable/);
  });

  it("refuses to edit an ended silence or to move the start of a started one, naming the field", async () => {
    const s = await h.call("POST", "/v1/silences", {
      matchers: [{ label: "service", op: "=", value: "x" }],
      endsAt: inAnHour(),
      comment: "c",
    });
    const moved = await h.call("PATCH", `/v1/silences/${s.body.id}`, {
      startsAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(moved.status).toBe(422);
    expect(moved.body.error).toMatchObject({ code: "invalid_silence", field: "startsAt" });
    const badRegex = await h.call("PATCH", `/v1/silences/${s.body.id}`, {
      matchers: [{ label: "service", op: "=~", value: "(" }],
    });
    expect(badRegex.body.error).toMatchObject({ code: "invalid_silence", field: "matchers.0.value" });
    await h.call("DELETE", `/v1/silences/${s.body.id}`);
    const late = await h.call("PATCH", `/v1/silences/${s.body.id}`, { comment: "too late" });
    expect(late.status).toBe(422);
    expect(late.body.error).toMatchObject({ code: "silence_expired" });
    expect((await h.call("GET", "/v1/silences/versions/999999")).status).toBe(404);
    // The refused changes wrote nothing.
    const versions = await h.call("GET", `/v1/silences/versions?silence=${s.body.id}`);
    expect(versions.body.items.map((v: { action: string }) => v.action)).toEqual(["expired", "created"]);
  });
});
