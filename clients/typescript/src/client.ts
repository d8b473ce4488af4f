import { setTimeout as delay } from "node:timers/promises";
import { decide, LimitsCache } from "./cache.js";
import { UsageLimitReachedError, UsageSlicesError } from "./errors.js";
import type {
  BatchEvent, BatchResult, CheckResult, CommitResult, FeatureLimit, LimitsResult, ReservationResult, TrackOptions, TrackResult,
  UsageSlicesProblem,
} from "./types.js";

/** Where the service is, how the client authenticates, and what it does when the service does not answer. */
export interface UsageSlicesClientOptions {
  /** The service's address, for example `https://usage.internal/`; the client adds `api/v1/`. */
  baseUrl: string | URL;
  /** Returns the bearer token for a call (asked for each attempt, so a token that expires between retries is renewed). */
  token: () => string | Promise<string>;
  /** The first retry's delay on a 408, 429, 5xx or network error, unless the service's `Retry-After` says otherwise; later ones back off. Default 200. */
  retryDelayMs?: number;
  /** How many times a call is retried before its error reaches the caller. Default 3. */
  maxRetries?: number;
  /** How long one attempt may take before it counts as a network error. Default 10,000. */
  attemptTimeoutMs?: number;
  /**
   * What a check answers, per feature code, when the service cannot be reached after the retries: `true` lets the work
   * go ahead (fail open), `false` refuses it (fail closed). A feature not named here uses `failOpenByDefault`.
   * Either way the result says so (`serviceUnreachable`).
   */
  failOpen?: Record<string, boolean>;
  /** Whether a check of a feature not in `failOpen` fails open; `false` unless set. */
  failOpenByDefault?: boolean;
  /**
   * Turns on this instance's cache of limits pages (off when not set). Checks and limits pages are then answered from
   * a page read at most this long ago (counted from when its request was sent), with this instance's own tracks and
   * holds since written into it. A check answered so says `fromCache`. Tracks and reservations always go to the
   * service, so enforcement stays exact.
   */
  limitsCacheMaxStalenessMs?: number;
  /** The clock the limits cache ages its pages by (ms since the epoch). */
  now?: () => number;
  /** The `fetch` each attempt calls (the global one unless set): for instrumentation, or an agent of the product's own. */
  fetch?: typeof fetch;
}

/** No answer at all from the service (refused or broken connections, timeouts), after the retries. */
export class UsageSlicesUnreachableError extends Error {
  constructor(cause: unknown) {
    super("UsageSlices could not be reached.", { cause });
    this.name = "UsageSlicesUnreachableError";
  }
}

/** The largest quantity a check takes (api.md). */
const maxCheckQuantity = 1_000_000_000;

/** The statuses worth another attempt, as .NET's standard resilience handler retries them. */
const retried = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * The UsageSlices API for a product's code: track usage, check a limit, read the limits page, and hold usage whose
 * cost is known afterwards. Every write carries an idempotency key (generated when none is given) that its retries
 * re-send, so a retried call counts once.
 */
export class UsageSlicesClient {
  private readonly baseUrl: URL;
  private readonly cache: LimitsCache;

  constructor(private readonly options: UsageSlicesClientOptions) {
    this.baseUrl = new URL("api/v1/", options.baseUrl);
    this.cache = new LimitsCache(options.limitsCacheMaxStalenessMs, options.now ?? Date.now);
  }

  /** The same calls, for one organisation: `client.organisation("acme").check("AI_MESSAGES")`. */
  organisation(orgId: string): OrganisationUsage {
    return new OrganisationUsage(this, orgId);
  }

  /** Records `quantity` of `feature` for `orgId`, once however often it is retried; in enforce mode a 402 is `UsageLimitReachedError`. */
  async track(orgId: string, feature: string, quantity = 1, options: TrackOptions = {}): Promise<TrackResult> {
    const tracked = await this.send<TrackResult>("POST", `usage/${escape(orgId)}/track`, {
      feature,
      quantity,
      idempotencyKey: options.idempotencyKey ?? newKey(),
      enforce: options.enforce ?? false,
      occurredAt: options.occurredAt,
      properties: options.properties,
    });
    this.cache.tracked(tracked);
    return tracked;
  }

  /** Records up to 1,000 events in one call and one transaction; each is judged on its own (recorded, duplicate or rejected). */
  async trackBatch(events: BatchEvent[]): Promise<BatchResult> {
    const batch = await this.send<BatchResult>("POST", "usage/events:batch", {
      events: events.map(e => ({ ...e, quantity: e.quantity ?? 1, idempotencyKey: e.idempotencyKey ?? newKey() })),
    });
    for (const { result } of batch.results) if (result) this.cache.tracked(result);
    return batch;
  }

  /**
   * Whether `orgId` may use `quantity` more of `feature` now; changes nothing. With the limits cache on, it is
   * answered from the organisation's cached page (read first if needed). When the service cannot be reached (after
   * the retries), the answer is the feature's fail-open or fail-closed choice, marked `serviceUnreachable`.
   */
  async check(orgId: string, feature: string, quantity = 1): Promise<CheckResult> {
    try {
      // A quantity the service's check refuses is sent to it, for its 400.
      if (this.cache.enabled && Number.isInteger(quantity) && quantity >= 1 && quantity <= maxCheckQuantity) {
        const cached = this.cache.feature(orgId, feature) ?? await this.readIntoCache(orgId, feature);
        if (cached) return decide(cached.page, cached.limit, quantity, this.cache.now());
      }
      const answer = await this.send<CheckResult>("GET", `usage/${escape(orgId)}/check/${escape(feature)}?quantity=${quantity}`);
      return { ...answer, serviceUnreachable: false, fromCache: false };
    } catch (error) {
      if (!(error instanceof UsageSlicesUnreachableError || (error instanceof UsageSlicesError && error.status >= 500))) throw error;
      const allowed = this.options.failOpen?.[feature] ?? this.options.failOpenByDefault ?? false;
      return unreachable(orgId, feature, quantity, allowed);
    }
  }

  /** Every feature's limit, usage and period for `orgId` (from the limits cache, when it is on and holds a page within its bound). */
  async limits(orgId: string): Promise<LimitsResult> {
    return this.cache.page(orgId) ?? await this.readLimits(orgId);
  }

  /** Holds `estimate` of `feature` for work whose cost is known afterwards; a 402 is `UsageLimitReachedError`. */
  async reserve(orgId: string, feature: string, estimate: number, options: { expiresInSeconds?: number; idempotencyKey?: string } = {}): Promise<Reservation> {
    const held = await this.send<ReservationResult>("POST", `usage/${escape(orgId)}/reservations`, {
      feature,
      quantity: estimate,
      expiresInSeconds: options.expiresInSeconds,
      idempotencyKey: options.idempotencyKey ?? newKey(),
    });
    this.cache.reserved(held);
    return new Reservation(this, held);
  }

  /** Records what a reservation's work used (its estimate when `quantity` is not given) and ends the hold. */
  async commit(orgId: string, reservationId: string, quantity?: number): Promise<CommitResult> {
    const committed = await this.send<CommitResult>("POST", `usage/${escape(orgId)}/reservations/${escape(reservationId)}/commit`, { quantity });
    this.cache.forget(orgId);
    return committed;
  }

  /** Ends a reservation's hold without recording usage (a second release changes nothing). */
  async release(orgId: string, reservationId: string): Promise<void> {
    await this.send<void>("DELETE", `usage/${escape(orgId)}/reservations/${escape(reservationId)}`);
    this.cache.forget(orgId);
  }

  /**
   * Holds `estimate` of `feature`, runs `work` with the reservation, and ends the hold: if `work` throws, it is
   * released (and the error rethrown); if `work` returns without committing, the estimate is committed, since the
   * work was done. `work` commits what it really used with `reservation.commit(quantity)`.
   */
  async withReservation<T>(orgId: string, feature: string, estimate: number, work: (reservation: Reservation) => Promise<T>): Promise<T> {
    const reservation = await this.reserve(orgId, feature, estimate);
    let result: T;
    try {
      result = await work(reservation);
    } catch (error) {
      // The hold would expire on its own; releasing now gives it back at once. The work's error is the one to see.
      if (!reservation.ended) await reservation.release().catch(() => undefined);
      throw error;
    }
    if (!reservation.ended) await reservation.commit();
    return result;
  }

  private async readLimits(orgId: string): Promise<LimitsResult> {
    // The page's age is counted from before the request, so that however slow the answer, it is never older than said.
    const sentAt = this.cache.now();
    const page = await this.send<LimitsResult>("GET", `usage/${escape(orgId)}/limits`);
    this.cache.store(page, sentAt);
    return page;
  }

  /** Reads the page for a check; a feature it does not list is left to the service's check (and its 400). */
  private async readIntoCache(orgId: string, feature: string): Promise<{ page: LimitsResult; limit: FeatureLimit } | undefined> {
    const page = await this.readLimits(orgId);
    const limit = page.features.find(f => f.feature === feature);
    return limit && { page, limit };
  }

  /** One call, retried on 408, 429, 5xx and network errors after `Retry-After` or a backoff; the body (and its key) is the same on every attempt. */
  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl);
    const json = body === undefined ? undefined : JSON.stringify(body);
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await (this.options.fetch ?? fetch)(url, {
          method,
          body: json,
          headers: {
            authorization: `Bearer ${await this.options.token()}`,
            accept: "application/json",
            ...(json === undefined ? {} : { "content-type": "application/json" }),
          },
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? 10_000),
        });
      } catch (error) {
        if (attempt >= maxRetries) throw new UsageSlicesUnreachableError(error);
        await delay(this.backoff(attempt));
        continue;
      }

      if (retried(response.status) && attempt < maxRetries) {
        await response.body?.cancel();
        await delay(retryAfter(response) ?? this.backoff(attempt));
        continue;
      }
      if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;

      const problem = /json/.test(response.headers.get("content-type") ?? "")
        ? await response.json() as UsageSlicesProblem
        : (await response.body?.cancel(), undefined);
      throw response.status === 402 && problem ? new UsageLimitReachedError(problem) : new UsageSlicesError(response.status, problem);
    }
  }

  /** Exponential, with jitter, so that many clients retrying together do not arrive together. */
  private backoff(attempt: number) {
    return (this.options.retryDelayMs ?? 200) * 2 ** attempt * (0.5 + Math.random() / 2);
  }
}

/** A hold made by `reserve`: commit it with what the work used, or release it. */
export class Reservation {
  private done = false;

  constructor(private readonly client: UsageSlicesClient, readonly held: ReservationResult) {}

  /** Whether it was committed or released. */
  get ended() { return this.done; }

  /** Records what the work used (the estimate when `quantity` is not given) and ends the hold. */
  async commit(quantity?: number): Promise<CommitResult> {
    const committed = await this.client.commit(this.held.orgId, this.held.reservationId, quantity);
    this.done = true;
    return committed;
  }

  /** Ends the hold without recording usage. */
  async release(): Promise<void> {
    await this.client.release(this.held.orgId, this.held.reservationId);
    this.done = true;
  }
}

/** The client's calls for one organisation. */
export class OrganisationUsage {
  constructor(private readonly client: UsageSlicesClient, readonly orgId: string) {}

  track(feature: string, quantity = 1, options: TrackOptions = {}) { return this.client.track(this.orgId, feature, quantity, options); }
  check(feature: string, quantity = 1) { return this.client.check(this.orgId, feature, quantity); }
  limits() { return this.client.limits(this.orgId); }
  reserve(feature: string, estimate: number, options: { expiresInSeconds?: number; idempotencyKey?: string } = {}) {
    return this.client.reserve(this.orgId, feature, estimate, options);
  }
  /** See `UsageSlicesClient.withReservation`. */
  withReservation<T>(feature: string, estimate: number, work: (reservation: Reservation) => Promise<T>) {
    return this.client.withReservation(this.orgId, feature, estimate, work);
  }
}

/** `Retry-After` in ms: seconds, or an HTTP date. */
function retryAfter(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (header === null) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

function unreachable(orgId: string, feature: string, requested: number, allowed: boolean): CheckResult {
  return {
    orgId, feature, kind: null, tier: "", allowed, reason: allowed ? null : "SERVICE_UNREACHABLE",
    requested, used: 0, reserved: 0, limit: null, remaining: null, unlimited: false, source: null, overrideExpiresAt: null,
    periodStart: null, periodEnd: null, resetsAt: null, asOf: new Date().toISOString(), serviceUnreachable: true, fromCache: false,
  };
}

const newKey = () => crypto.randomUUID();

const escape = encodeURIComponent;
