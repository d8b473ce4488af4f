// The service's answers, named as this package's API names them; every shape comes from the generated document.
import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];

/** What a track recorded (or, for a retry of the same key, what its first call recorded: `duplicate`). */
export type TrackResult = Schemas["TrackUsageReply"];

/** Whether a quantity of a feature may be used now, with the numbers behind the answer. */
export type CheckResult = Omit<Schemas["CheckLimitReply"], "reason" | "kind" | "source"> & {
  /** Why it is refused; `SERVICE_UNREACHABLE` when the service could not be reached and the feature fails closed. */
  reason: Schemas["LimitReason"] | "SERVICE_UNREACHABLE";
  /** The feature's kind; `null` when the service could not be reached. */
  kind: Schemas["FeatureKind"] | null;
  /** Where the limit comes from; `null` when the service could not be reached. */
  source: Schemas["LimitSource"] | null;
  /**
   * The service could not be reached: `allowed` is the feature's fail-open or fail-closed choice
   * (`failOpen`), not the service's answer, and the numbers are unknown (0).
   */
  serviceUnreachable: boolean;
  /** Answered from this instance's limits cache, by the service's rule, on a page at most the bound old. */
  fromCache: boolean;
};

/** Every feature's limit and usage for one organisation. */
export type LimitsResult = Schemas["GetLimitsReply"];

/** One feature's limit and usage on the limits page. */
export type FeatureLimit = Schemas["FeatureLimit"];

/** A hold on a quantity of a feature, until it is committed, released or expires. */
export type ReservationResult = Schemas["ReserveUsageReply"];

/** What a commit recorded: a track's answer, with the reservation it ended. */
export type CommitResult = Schemas["CommitReservationReply"];

/** A batch's outcome: counts, and each event's result or problem, in order. */
export type BatchResult = Schemas["TrackUsageBatchResponse"];

/** An RFC 9457 problem the service answered with; a 402 carries the numbers it was decided on. */
export type UsageSlicesProblem = Schemas["ProblemDetails"] & {
  reason?: Schemas["LimitReason"] | null;
  requested?: number | null;
  used?: number | null;
  reserved?: number | null;
  limit?: number | null;
  remaining?: number | null;
};

/** How a track is recorded. */
export interface TrackOptions {
  /** The call's key; one is generated when none is given, and kept across the call's retries. */
  idempotencyKey?: string;
  /** Refuse (402, `UsageLimitReachedError`) rather than record past the limit. */
  enforce?: boolean;
  /** When the usage happened, if not now. */
  occurredAt?: Date | string;
  /** Free-form properties kept with the event (model, conversation…). */
  properties?: Record<string, string>;
}

/** One event of a batch: a record-mode track of any organisation the token may act for. */
export interface BatchEvent {
  orgId: string;
  feature: string;
  quantity?: number;
  /** Generated when not given, and kept across the batch's retries. */
  idempotencyKey?: string;
  occurredAt?: Date | string;
  properties?: Record<string, string>;
}
