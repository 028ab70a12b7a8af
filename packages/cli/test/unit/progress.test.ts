import { describe, expect, it } from "vitest";
import { countNewlines, LineProgress } from "../../src/output/progress.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, writer: { isTTY, write: (t: string | Uint8Array) => written.push(String(t)) } };
}

describe("LineProgress", () => {
  it("stays quiet for a short export", () => {
    let now = 0;
    const { written, writer } = sink(false);
    const p = new LineProgress(writer, { now: () => now });
    p.add(bytes('{"seq":1}\n{"seq":2}\n'));
    now = 900;
    p.add(bytes('{"seq":3}\n'));
    p.finish();
    expect(p.lines).toBe(3);
    expect(written).toEqual([]);
  });

  it("reports lines written so far on new lines when stderr is not a terminal", () => {
    let now = 0;
    const { written, writer } = sink(false);
    const p = new LineProgress(writer, { now: () => now });
    now = 1000;
    p.add(bytes("a\nb\n"));
    now = 2000; // within 5 s of the last update: quiet
    p.add(bytes("c\n"));
    now = 6000;
    p.add(bytes("d\n".repeat(1500)));
    p.finish();
    expect(written).toEqual(["2 lines written so far\n", "1,503 lines written so far\n"]);
  });

  it("rewrites one line on a terminal, and clears it at the end", () => {
    let now = 0;
    const { written, writer } = sink(true);
    const p = new LineProgress(writer, { now: () => now });
    now = 1000;
    p.add(bytes("a\n"));
    now = 2000;
    p.add(bytes("b\n"));
    p.finish();
    expect(written).toEqual(["\r\x1b[K1 lines written so far", "\r\x1b[K2 lines written so far", "\r\x1b[K"]);
  });

  it("counts newlines across chunk boundaries", () => {
    expect(countNewlines(bytes(""))).toBe(0);
    expect(countNewlines(bytes('{"a":1}'))).toBe(0);
    expect(countNewlines(bytes('1}\n{"a":2}\n{"a'))).toBe(2);
  });
});
