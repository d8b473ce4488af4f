// While the service is stopped, a check answers the feature's fail-open or fail-closed choice, and says so.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { UsageSlicesClient, UsageSlicesUnreachableError } from "@usage-slices/client";
import { ServiceProcess } from "./support/service.js";

const service = new ServiceProcess("usage_slices_client_ts");

after(() => service.kill());

test("while the service is stopped a check fails open or closed per feature and says so", async () => {
  await service.start();
  const admin = await service.token();
  const orgId = await service.register("pro", admin);
  const client = new UsageSlicesClient({ baseUrl: service.baseUrl, token: () => admin, retryDelayMs: 50, failOpen: { AI_MESSAGES: true } });
  const reachable = await client.check(orgId, "AI_MESSAGES");
  assert.deepEqual([reachable.allowed, reachable.serviceUnreachable], [true, false]);

  await service.kill();

  const open = await client.check(orgId, "AI_MESSAGES");
  assert.deepEqual([open.allowed, open.serviceUnreachable, open.reason], [true, true, null]);
  const closed = await client.check(orgId, "DOCUMENT_SCANS");
  assert.deepEqual([closed.allowed, closed.serviceUnreachable, closed.reason], [false, true, "SERVICE_UNREACHABLE"]);
  // A write is never guessed: it fails, for the product to retry or queue.
  await assert.rejects(client.track(orgId, "AI_MESSAGES"), UsageSlicesUnreachableError);

  await service.start();
  const back = await client.check(orgId, "DOCUMENT_SCANS");
  assert.deepEqual([back.allowed, back.serviceUnreachable], [true, false]);
  assert.equal(back.used, 0);
});
