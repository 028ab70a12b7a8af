import { describe, expect, it } from "vitest";
import {
  copyTimestampMicros,
  createLayerChooser,
  isoMicros,
  revisionColumns,
  splitCopyRow,
  unescapeCopyField,
} from "../../src/restore/point-in-time-fns.js";

const COLUMNS = ["namespace", "revision", "layer", "content", "hash", "created_at"].map((name) => ({ name }));
const cols = revisionColumns(COLUMNS);
const row = (ns: string, revision: number, layer: string, content: string, createdAt: string) =>
  splitCopyRow([ns, String(revision), layer, content, "h", createdAt].join("\t"));

describe("reading COPY text", () => {
  it("undoes COPY's escapes and reads NULL", () => {
    expect(unescapeCopyField("\\N")).toBeNull();
    expect(unescapeCopyField("a\\tb\\nc\\\\d")).toBe("a\tb\nc\\d");
    expect(unescapeCopyField("\\101\\x42")).toBe("AB");
    expect(unescapeCopyField('{"q": "say \\\\"hi\\\\""}')).toBe('{"q": "say \\"hi\\""}');
  });

  it("reads timestamps in any session time zone to the microsecond", () => {
    const utc = copyTimestampMicros("2026-12-06 10:00:00.000001+00");
    expect(utc).toBe(isoMicros("2026-12-06T10:00:00Z") + 1);
    expect(copyTimestampMicros("2026-12-06 11:30:00.000001+01:30")).toBe(utc);
    expect(copyTimestampMicros("2026-12-06 05:00:00-05")).toBe(isoMicros("2026-12-06T10:00:00Z"));
    expect(() => copyTimestampMicros("yesterday")).toThrow(/not a timestamp/);
  });
});

describe("choosing each layer's content at a point in time", () => {
  const at = isoMicros("2026-12-06T10:00:00Z");

  it("takes the newest revision at or before the point, and empties a layer with none by then", () => {
    const chooser = createLayerChooser("shop", at);
    chooser.offer(row("shop", 1, "base", '{"v": 1}', "2026-12-06 09:00:00+00"), cols);
    chooser.offer(row("shop", 2, "base", '{"v": 2}', "2026-12-06 10:00:00+00"), cols);
    chooser.offer(row("shop", 3, "base", '{"v": 3}', "2026-12-06 10:00:00.000001+00"), cols);
    chooser.offer(row("shop", 4, "staging", '{"s": 1}', "2026-12-06 11:00:00+00"), cols);
    chooser.offer(row("other", 1, "base", "not json: never decoded", "2026-12-06 09:00:00+00"), cols);
    expect(chooser.chosen()).toEqual([
      { layer: "base", fromRevision: 2, fromCreatedAt: "2026-12-06T10:00:00.000Z", content: { v: 2 } },
      { layer: "staging", fromRevision: null, fromCreatedAt: null, content: {} },
    ]);
    expect(chooser.summary()).toEqual({ rows: 4, oldest: "2026-12-06T09:00:00.000Z" });
  });

  it("takes every revision without a point, and forgets what a reset drops", () => {
    const chooser = createLayerChooser("shop", null);
    chooser.offer(row("shop", 5, "base", '{"old": true}', "2026-12-06 09:00:00+00"), cols);
    chooser.reset();
    chooser.offer(row("shop", 1, "base", '{"new": true}', "2026-12-06 12:00:00+00"), cols);
    expect(chooser.chosen().map((l) => [l.fromRevision, l.content])).toEqual([[1, { new: true }]]);
    expect(chooser.summary().oldest).toBe("2026-12-06T12:00:00.000Z");
  });
});
