import { describe, expect, it } from "vitest";
import { baseEnvSchema, parseEnv, tracingPlan } from "../../src/index.js";

const env = (vars: Record<string, string>) => parseEnv(baseEnvSchema, { PORT: "0", ...vars });

describe("tracingPlan (OTEL_* variables)", () => {
  it("is off by default and when the SDK is disabled", () => {
    expect(tracingPlan(env({}))).toEqual({ exporter: "none" });
    expect(tracingPlan(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }))).toEqual({ exporter: "none" });
    expect(
      tracingPlan(env({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })),
    ).toEqual({ exporter: "none" });
    expect(
      tracingPlan(env({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })),
    ).toEqual({
      exporter: "none",
    });
  });

  it("exports OTLP/HTTP to the endpoint's /v1/traces, or to the traces endpoint as given", () => {
    expect(tracingPlan(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }))).toEqual({
      exporter: "otlp",
      url: "http://collector:4318/v1/traces",
      protocol: "http/protobuf",
    });
    expect(
      tracingPlan(
        env({
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otlp.example/api/traces",
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        }),
      ),
    ).toEqual({ exporter: "otlp", url: "https://otlp.example/api/traces", protocol: "http/json" });
    expect(tracingPlan(env({ OTEL_TRACES_EXPORTER: "otlp" }))).toMatchObject({
      url: "http://localhost:4318/v1/traces",
    });
    expect(tracingPlan(env({ OTEL_TRACES_EXPORTER: "console" }))).toEqual({ exporter: "console" });
  });

  it("refuses what it cannot do, naming the variable", () => {
    expect(() => env({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: .*gRPC/);
    expect(() => env({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => env({ OTEL_TRACES_EXPORTER: "jaeger" })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => env({ NATS_STREAM_REPLICAS: "0" })).toThrow(/NATS_STREAM_REPLICAS/);
    expect(env({ NATS_STREAM_REPLICAS: "3" }).NATS_STREAM_REPLICAS).toBe(3);
  });
});
