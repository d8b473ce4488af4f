export { UsageSlicesClient, OrganisationUsage, Reservation, UsageSlicesUnreachableError } from "./client.js";
export type { UsageSlicesClientOptions } from "./client.js";
export { UsageSlicesError, UsageLimitReachedError } from "./errors.js";
export { requireFeature } from "./middleware.js";
export type { CheckedRequest, RequireFeatureOptions } from "./middleware.js";
export type {
  BatchEvent, BatchResult, CheckResult, CommitResult, FeatureLimit, LimitsResult, ReservationResult, TrackOptions, TrackResult,
  UsageSlicesProblem,
} from "./types.js";
export type { components, paths } from "./generated/openapi.js";
