import { AppError } from "@nexus/kit";
import { expect } from "vitest";

/** Runs `fn`, expects it to throw an AppError, returns it. */
export function catchError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected an error");
}
