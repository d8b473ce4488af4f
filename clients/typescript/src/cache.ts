import type { CheckResult, FeatureLimit, LimitsResult, ReservationResult, TrackResult } from "./types.js";

/** Past this many organisations, a new page first evicts the stale ones, so the cache cannot grow without bound. */
const pruneAbove = 10_000;

interface Entry {
  page: LimitsResult;
  /** When the page's request was sent, on the cache's clock (ms). */
  readAt: number;
}

/**
 * The opt-in per-instance cache of limits pages (`limitsCacheMaxStalenessMs`). A page is served only while it is
 * younger than the bound, counted from when its request was sent, and only for a feature whose period and override
 * have not ended since. The client's own tracks and holds write their answers' numbers into the page, so what this
 * instance used is seen at once; they never make a page younger, so nothing another instance did is hidden for longer
 * than the bound.
 */
export class LimitsCache {
  private readonly pages = new Map<string, Entry>();

  constructor(private readonly maxStalenessMs: number | undefined, readonly now: () => number) {}

  get enabled() { return this.maxStalenessMs !== undefined; }

  /** The cached page of `orgId`, if it is within the bound. */
  page(orgId: string): LimitsResult | undefined {
    const entry = this.pages.get(orgId);
    return entry && this.fresh(entry) ? entry.page : undefined;
  }

  /** The cached limit of one feature, if its page is within the bound and nothing about it has ended since. */
  feature(orgId: string, feature: string): { page: LimitsResult; limit: FeatureLimit } | undefined {
    const page = this.page(orgId);
    const limit = page?.features.find(f => f.feature === feature);
    if (!page || !limit) return undefined;
    const now = this.now();
    const ended = (at: string | null) => at !== null && Date.parse(at) <= now;
    return ended(limit.periodEnd) || ended(limit.overrideExpiresAt) ? undefined : { page, limit };
  }

  /** Keeps a page read by a request sent at `readAt`, unless a younger one is there already. */
  store(page: LimitsResult, readAt: number) {
    if (!this.enabled) return;
    if (this.pages.size > pruneAbove)
      for (const [orgId, entry] of this.pages) if (!this.fresh(entry)) this.pages.delete(orgId);
    const held = this.pages.get(page.orgId);
    if (!held || held.readAt <= readAt) this.pages.set(page.orgId, { page, readAt });
  }

  /** Writes what a track of this instance answered into the feature's cached numbers. */
  tracked(tracked: TrackResult) {
    this.update(tracked.orgId, tracked.feature, tracked.periodStart, limit => ({
      ...limit, used: tracked.used, limit: tracked.limit, remaining: tracked.remaining, unlimited: tracked.unlimited,
    }));
  }

  /** Writes what a hold of this instance answered into the feature's cached numbers. */
  reserved(held: ReservationResult) {
    this.update(held.orgId, held.feature, held.periodStart, limit => ({
      ...limit, used: held.used, reserved: held.reserved, limit: held.limit, remaining: held.remaining,
    }));
  }

  /** A hold ended: its answer does not say what the others hold, so the page is read again next time. */
  forget(orgId: string) { this.pages.delete(orgId); }

  private fresh(entry: Entry) { return this.now() - entry.readAt <= this.maxStalenessMs!; }

  private update(orgId: string, feature: string, periodStart: string | null, change: (limit: FeatureLimit) => FeatureLimit) {
    const entry = this.pages.get(orgId);
    const index = entry?.page.features.findIndex(f => f.feature === feature) ?? -1;
    // A late event of another period says nothing of this one's numbers.
    if (!entry || index < 0 || entry.page.features[index].periodStart !== periodStart) return;
    const features = entry.page.features.slice();
    features[index] = change(features[index]);
    this.pages.set(orgId, { ...entry, page: { ...entry.page, features } });
  }
}

/** The service's check rule on a cached limit: `used + reserved + requested ≤ limit`, the flag for a boolean. */
export function decide(page: LimitsResult, limit: FeatureLimit, requested: number, now: number): CheckResult {
  return {
    ...verdict(limit, requested), orgId: page.orgId, feature: limit.feature, kind: limit.kind, tier: page.tier.code, requested, used: limit.used, reserved: limit.reserved, limit: limit.limit, remaining: limit.remaining,
    unlimited: limit.unlimited, source: limit.source, overrideExpiresAt: limit.overrideExpiresAt,
    periodStart: limit.periodStart, periodEnd: limit.periodEnd, resetsAt: limit.resetsAt, asOf: new Date(now).toISOString(),
    serviceUnreachable: false, fromCache: true,
  };
}

function verdict(limit: FeatureLimit, requested: number): Pick<CheckResult, "allowed" | "reason"> {
  if (limit.kind === "boolean") return limit.enabled ? { allowed: true, reason: null } : { allowed: false, reason: "NOT_IN_TIER" };
  const taken = limit.used + limit.reserved;
  if (limit.limit === null || requested <= limit.limit - taken) return { allowed: true, reason: null };
  if (limit.limit === 0) return { allowed: false, reason: "NOT_IN_TIER" };
  return { allowed: false, reason: taken >= limit.limit ? "LIMIT_EXCEEDED" : "REQUESTED_EXCEEDS_REMAINING" };
}
