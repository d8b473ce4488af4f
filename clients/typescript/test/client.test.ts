// The TypeScript client as a product uses it, against the service as its own process on a real socket.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import {
  requireFeature, UsageLimitReachedError, UsageSlicesClient, UsageSlicesError, type CheckedRequest, type UsageSlicesClientOptions,
} from "@usage-slices/client";
import { answerChat, type ChatModel } from "../samples/chat-turn.js";
import { DroppingProxy } from "./support/dropping-proxy.js";
import { ServiceProcess } from "./support/service.js";

const schema = "usage_slices_client_ts";
const service = new ServiceProcess(schema);
let admin = "";
let client: UsageSlicesClient;

before(async () => {
  await service.start();
  // An admin token, as a product's backend holds one for all of its organisations.
  admin = await service.token();
  client = clientFor(service.baseUrl);
});

after(() => service.kill());

function clientFor(baseUrl: string, more: Partial<UsageSlicesClientOptions> = {}) {
  return new UsageSlicesClient({ baseUrl, token: () => admin, retryDelayMs: 50, ...more });
}

const register = (tier: string) => service.register(tier, admin);

test("tracks, checks and limits agree", async () => {
  const orgId = await register("starter");

  const tracked = await client.track(orgId, "AI_MESSAGES", 3);
  assert.deepEqual([tracked.used, tracked.limit, tracked.duplicate], [3, 1000, false]);

  const check = await client.check(orgId, "AI_MESSAGES", 997);
  assert.deepEqual([check.allowed, check.used, check.remaining, check.tier, check.fromCache], [true, 3, 997, "starter", false]);
  assert.equal((await client.check(orgId, "AI_MESSAGES", 998)).reason, "REQUESTED_EXCEEDS_REMAINING");

  const limits = await client.limits(orgId);
  assert.equal(limits.tier.code, "starter");
  assert.equal(limits.features.find(f => f.feature === "AI_MESSAGES")!.used, 3);
});

test("a key sent twice counts once, and each call without one gets its own", async () => {
  const usage = client.organisation(await register("pro"));

  const first = await usage.track("AI_MESSAGES", 5, { idempotencyKey: "msg-1" });
  const again = await usage.track("AI_MESSAGES", 5, { idempotencyKey: "msg-1" });
  assert.deepEqual([again.duplicate, again.eventId, again.used], [true, first.eventId, 5]);

  const one = await usage.track("AI_MESSAGES");
  const two = await usage.track("AI_MESSAGES");
  assert.notEqual(one.eventId, two.eventId);
  assert.equal((await usage.check("AI_MESSAGES")).used, 7);
});

test("a track whose answer is lost after the commit is retried with its key and counts once", async () => {
  const orgId = await register("pro");
  const proxy = await DroppingProxy.start(service.baseUrl, 1);
  try {
    const tracked = await clientFor(proxy.address).track(orgId, "AI_MESSAGES", 4);

    assert.equal(proxy.dropped, 1);
    // The retry carried the first attempt's key: the service answered it as the duplicate of what it had recorded.
    assert.deepEqual([tracked.duplicate, tracked.used], [true, 4]);
    assert.equal((await client.check(orgId, "AI_MESSAGES")).used, 4);
  } finally {
    await proxy.close();
  }
});

test("a batch behind a dropped answer records each event once and refuses the bad ones on their own", async () => {
  const orgId = await register("pro");
  const proxy = await DroppingProxy.start(service.baseUrl, 1);
  try {
    const batch = await clientFor(proxy.address).trackBatch([
      { orgId, feature: "AI_MESSAGES", quantity: 2 },
      // Sent explicitly, and now: a moment before the organisation's registration could lie in the period before.
      { orgId, feature: "DOCUMENT_SCANS", occurredAt: new Date() },
      { orgId: `${orgId}-missing`, feature: "AI_MESSAGES" },
    ]);

    assert.equal(proxy.dropped, 1);
    assert.deepEqual([batch.recorded, batch.duplicates, batch.rejected], [0, 2, 1]);
    assert.deepEqual(batch.results.map(r => [r.index, r.status]), [[0, "duplicate"], [1, "duplicate"], [2, "rejected"]]);
    assert.equal(batch.results[2].problem!.status, 404);
    assert.equal((await client.check(orgId, "AI_MESSAGES")).used, 2);
    assert.equal((await client.check(orgId, "DOCUMENT_SCANS")).used, 1);
  } finally {
    await proxy.close();
  }
});

test("calls refused with 429 are retried after the service's Retry-After and each counts once", async () => {
  const orgId = await register("pro");
  // A second instance on the same schema, allowing each organisation one call a second.
  const limited = await new ServiceProcess(schema, { RateLimiting__PermitsPerSecond: "1", RateLimiting__Burst: "1" }).start();
  try {
    const statuses: number[] = [];
    const limitedToken = await limited.token();
    const limitedClient = new UsageSlicesClient({
      baseUrl: limited.baseUrl,
      token: () => limitedToken,
      // Sees every attempt, inside the client's retries.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });

    const tracked = await Promise.all([1, 2, 3].map(() => limitedClient.track(orgId, "AI_MESSAGES")));

    assert.ok(statuses.includes(429), `statuses: ${statuses}`);
    assert.equal(new Set(tracked.map(t => t.eventId)).size, 3);
    assert.equal((await client.check(orgId, "AI_MESSAGES")).used, 3);
  } finally {
    await limited.kill();
  }
});

test("a refusal in enforce mode is a typed error with the numbers and records nothing", async () => {
  const orgId = await register("free");
  await client.track(orgId, "AI_MESSAGES", 48);

  const refused = await client.track(orgId, "AI_MESSAGES", 3, { enforce: true }).catch(error => error);
  assert.ok(refused instanceof UsageLimitReachedError);
  assert.deepEqual([refused.status, refused.reason, refused.requested, refused.used, refused.limit, refused.remaining],
    [402, "REQUESTED_EXCEEDS_REMAINING", 3, 48, 50, 2]);
  assert.equal((await client.check(orgId, "AI_MESSAGES")).used, 48);

  const unknown = await client.check(`${orgId}-missing`, "AI_MESSAGES").catch(error => error);
  assert.ok(unknown instanceof UsageSlicesError && !(unknown instanceof UsageLimitReachedError));
  assert.equal(unknown.status, 404);
});

test("withReservation releases the hold when the work fails and commits what it used when it succeeds", async () => {
  const usage = client.organisation(await register("starter"));

  await assert.rejects(usage.withReservation("AI_MESSAGES", 400, async () => {
    assert.equal((await usage.check("AI_MESSAGES")).reserved, 400);
    throw new Error("the model is down");
  }), /the model is down/);
  const afterFailure = await usage.check("AI_MESSAGES");
  assert.deepEqual([afterFailure.reserved, afterFailure.used], [0, 0]);

  const answer = await usage.withReservation("AI_MESSAGES", 400, async reservation => {
    await reservation.commit(123);
    return "done";
  });
  assert.equal(answer, "done");
  // Work that returns without committing used its estimate.
  await usage.withReservation("AI_MESSAGES", 7, async () => undefined);
  const afterCommits = await usage.check("AI_MESSAGES");
  assert.deepEqual([afterCommits.reserved, afterCommits.used], [0, 130]);
});

test("the limits cache never serves a page older than its bound and sees its own tracks at once", async () => {
  const orgId = await register("starter");
  let now = Date.now();
  const cached = clientFor(service.baseUrl, { limitsCacheMaxStalenessMs: 60_000, now: () => now });

  const first = await cached.check(orgId, "AI_MESSAGES");
  assert.deepEqual([first.fromCache, first.used], [true, 0]);

  // Another instance's usage is not seen while the page is within its bound…
  await client.track(orgId, "AI_MESSAGES", 5);
  assert.equal((await cached.check(orgId, "AI_MESSAGES")).used, 0);
  // …but this instance's own track writes the service's answer (which counts the other's 5) into the page.
  assert.equal((await cached.track(orgId, "AI_MESSAGES", 1)).used, 6);
  const afterOwnTrack = await cached.check(orgId, "AI_MESSAGES", 994);
  assert.deepEqual([afterOwnTrack.fromCache, afterOwnTrack.used, afterOwnTrack.remaining, afterOwnTrack.allowed], [true, 6, 994, true]);
  assert.equal((await cached.limits(orgId)).features.find(f => f.feature === "AI_MESSAGES")!.used, 6);

  await client.track(orgId, "AI_MESSAGES", 10);
  now += 59_000;
  assert.equal((await cached.check(orgId, "AI_MESSAGES")).used, 6);

  // Past the bound (counted from when the page was asked for), the page is read again.
  now += 2_000;
  const fresh = await cached.check(orgId, "AI_MESSAGES");
  assert.deepEqual([fresh.fromCache, fresh.used], [true, 16]);
  assert.equal((await cached.limits(orgId)).features.find(f => f.feature === "AI_MESSAGES")!.used, 16);
});

test("a check from the cache answers what the service answers", async () => {
  const orgId = await register("free");
  await client.track(orgId, "AI_MESSAGES", 48);
  await client.reserve(orgId, "AI_MESSAGES", 1);
  const cached = clientFor(service.baseUrl, { limitsCacheMaxStalenessMs: 60_000 });

  // At and past what is left of a limit; a feature not in the tier; a flag off; an allocation; far past a limit.
  const cases: [string, number][] = [["AI_MESSAGES", 1], ["AI_MESSAGES", 2], ["API_CALLS", 1], ["API_ACCESS", 1], ["TEAM_MEMBERS", 1], ["INVOICES", 1e9]];
  for (const [feature, quantity] of cases) {
    const fromCache = await cached.check(orgId, feature, quantity);
    const fromService = await client.check(orgId, feature, quantity);
    assert.deepEqual([fromCache.fromCache, fromService.fromCache], [true, false]);
    const numbers = (c: typeof fromCache) => [c.allowed, c.reason, c.used, c.reserved, c.limit, c.remaining, c.kind, c.tier, c.source];
    assert.deepEqual(numbers(fromCache), numbers(fromService), `${feature} × ${quantity}`);
  }

  // What the service's check refuses as input, the cached client sends it to be refused.
  const refused = await cached.check(orgId, "AI_MESSAGES", 0).catch(error => error);
  assert.equal(refused.status, 400);
});

test("a route behind requireFeature runs only while the organisation may use the feature", async () => {
  const orgId = await register("free");
  await client.track(orgId, "AI_MESSAGES", 49);
  let answered = 0;
  const app = express();
  app.post("/chat", requireFeature<express.Request>(client, "AI_MESSAGES", { organisationOf: request => request.header("x-organisation") }),
    (request, response) => {
      answered++;
      response.json({ remaining: (request as CheckedRequest).usageCheck!.remaining });
    });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const chat = (orgId?: string) => fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`, {
    method: "POST", headers: orgId ? { "x-organisation": orgId } : {},
  });
  try {
    const allowed = await chat(orgId);
    assert.equal(allowed.status, 200);
    assert.deepEqual(await allowed.json(), { remaining: 1 });

    await client.track(orgId, "AI_MESSAGES", 1);
    const refused = await chat(orgId);
    assert.equal(refused.status, 402);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    const problem = await refused.json() as Record<string, unknown>;
    assert.deepEqual([problem.reason, problem.used, problem.limit, problem.remaining], ["LIMIT_EXCEEDED", 50, 50, 0]);

    assert.equal((await chat()).status, 403);
    // The route ran once: for the request that was allowed.
    assert.equal(answered, 1);
    assert.equal((await client.check(orgId, "AI_MESSAGES")).used, 50);
  } finally {
    server.close();
  }
});

test("the chat turn sample commits what the model used and releases the hold when the model fails", async () => {
  const orgId = await register("free");
  let allowedMessages = 0;
  const model = (messages: number, fails = false): ChatModel => async (prompt, maxMessages) => {
    allowedMessages = maxMessages;
    if (fails) throw new Error("The model's provider is down.");
    return { text: `Answer to ${prompt}`, messagesUsed: Math.min(messages, maxMessages) };
  };
  const standing = async () => {
    const check = await client.check(orgId, "AI_MESSAGES");
    return [check.used, check.reserved];
  };

  assert.equal(await answerChat(client, model(3), orgId, "hello"), "Answer to hello");
  assert.deepEqual(await standing(), [3, 0]);

  await assert.rejects(answerChat(client, model(3, true), orgId, "again"), /provider is down/);
  assert.deepEqual(await standing(), [3, 0]);

  // Two messages left: the turn holds two, and the model is told so.
  await client.track(orgId, "AI_MESSAGES", 45);
  await answerChat(client, model(5), orgId, "long");
  assert.equal(allowedMessages, 2);
  assert.deepEqual(await standing(), [50, 0]);

  const refused = await answerChat(client, model(1), orgId, "more");
  assert.match(refused, /^Your organisation has used its 50 AI messages; they renew on \d{4}-\d{2}-\d{2}\.$/);
  assert.deepEqual(await standing(), [50, 0]);
});

test("the checked-in types are what the running service's OpenAPI document generates", async () => {
  const generator = await import(new URL("../../scripts/generate-types.mjs", import.meta.url).href);
  const served = await (await fetch(new URL("/openapi/v1.json", service.baseUrl))).json();

  const expected = await generator.typesOf(served);
  const checkedIn = await readFile(generator.generatedFile, "utf8");

  assert.ok(checkedIn === expected,
    "src/generated/openapi.ts differs from the service's /openapi/v1.json: run `npm run generate -- <service address>` in clients/typescript.");
});
