import type { IncomingMessage, ServerResponse } from "node:http";
import type { UsageSlicesClient } from "./client.js";
import type { CheckResult } from "./types.js";

/** What `requireFeature` needs to know of the product's requests. */
export interface RequireFeatureOptions<Request extends IncomingMessage> {
  /** Which organisation a request acts for (a claim of its user, say); `undefined` refuses it with 403. */
  organisationOf: (request: Request) => string | undefined | null;
  /** How much of the feature the route uses. Default 1. */
  quantity?: number;
}

/** A request that `requireFeature` let through carries the check that allowed it. */
export type CheckedRequest<Request extends IncomingMessage = IncomingMessage> = Request & { usageCheck?: CheckResult };

/**
 * Express-style middleware (`(req, res, next)`, which Express, Connect and plain `node:http` handlers can call) that
 * lets a request through only while its organisation may use `quantity` of `feature` now: 402 with the check's
 * numbers when the limit says no, 503 when the service cannot be reached and the feature fails closed, 403 when the
 * request names no organisation, each an RFC 9457 problem. It only checks; the route records what it used.
 */
export function requireFeature<Request extends IncomingMessage>(
  client: UsageSlicesClient, feature: string, options: RequireFeatureOptions<Request>,
) {
  const quantity = options.quantity ?? 1;
  return (request: Request, response: ServerResponse, next: (error?: unknown) => void): void => {
    const orgId = options.organisationOf(request);
    if (!orgId) {
      problem(response, 403, { title: "No organisation", detail: `The request acts for no organisation, so it may not use ${feature}.` });
      return;
    }
    client.check(orgId, feature, quantity).then(check => {
      if (check.allowed) {
        (request as CheckedRequest<Request>).usageCheck = check;
        next();
      } else if (check.serviceUnreachable) {
        problem(response, 503, {
          title: "Usage cannot be checked", detail: `UsageSlices cannot be reached and ${feature} fails closed.`, reason: check.reason, feature,
        });
      } else {
        problem(response, 402, {
          title: "Usage limit reached", detail: `Organisation '${orgId}' may not use ${quantity} more of ${feature} now.`,
          reason: check.reason, feature, requested: check.requested, used: check.used, reserved: check.reserved,
          limit: check.limit, remaining: check.remaining, resetsAt: check.resetsAt,
        });
      }
    }, next);
  };
}

function problem(response: ServerResponse, status: number, body: Record<string, unknown>) {
  response.statusCode = status;
  response.setHeader("content-type", "application/problem+json");
  response.end(JSON.stringify({ status, ...body }));
}
