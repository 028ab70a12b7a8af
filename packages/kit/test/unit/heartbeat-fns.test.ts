import { describe, expect, it } from "vitest";
import { instanceIdOf, sumGauges } from "../../src/heartbeat/heartbeat-fns.js";

describe("heartbeat functions", () => {
  it("make a subject-safe instance id from any host name", () => {
    expect(instanceIdOf("Web-01.Example.COM", 42)).toBe("web-01-example-com-42");
    expect(instanceIdOf("...", 7)).toBe("host-7");
    expect(instanceIdOf("a*b>c", 1)).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });
  it("add up the durables' backlog", () => {
    expect(
      sumGauges([
        { num_pending: 2, num_ack_pending: 1, num_redelivered: 0 },
        { num_pending: 5, num_ack_pending: 0, num_redelivered: 3 },
      ]),
    ).toEqual({ consumerPending: 7, consumerAckPending: 1, consumerRedelivered: 3 });
  });
});
