import type { UsageSlicesProblem } from "./types.js";

/** The service refused a call (after the client's retries, for one it retries): its status and problem. */
export class UsageSlicesError extends Error {
  constructor(
    /** The HTTP status the service answered. */
    readonly status: number,
    /** The problem details of the answer, when it had them. */
    readonly problem: UsageSlicesProblem | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `UsageSlices answered ${status}.`);
    this.name = "UsageSlicesError";
  }
}

/** 402: the organisation may not use that much of the feature now (enforce mode or a reservation). Nothing was recorded. */
export class UsageLimitReachedError extends UsageSlicesError {
  constructor(problem: UsageSlicesProblem) {
    super(402, problem);
    this.name = "UsageLimitReachedError";
  }

  /** `LIMIT_EXCEEDED`, `REQUESTED_EXCEEDS_REMAINING` or `NOT_IN_TIER`. */
  get reason() { return this.problem?.reason ?? undefined; }
  get requested() { return this.problem?.requested ?? undefined; }
  get used() { return this.problem?.used ?? undefined; }
  get reserved() { return this.problem?.reserved ?? undefined; }
  /** The effective limit (`null`: unlimited). */
  get limit() { return this.problem?.limit; }
  get remaining() { return this.problem?.remaining; }
}
