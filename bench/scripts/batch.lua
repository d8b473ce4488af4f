-- POST events:batch with BATCH events (default 1,000), each with its own idempotency key, for random
-- organisations among ORGS, or all for one organisation (ORG).
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local fixed = os.getenv("ORG")
local size = tonumber(os.getenv("BATCH") or "1000")
local run = os.getenv("RUN") or tostring(os.time())
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local sequence = 0

request = function()
  sequence = sequence + 1
  local events = {}
  for i = 1, size do
    local org = fixed or ("bench-" .. math.random(1, orgs))
    events[i] = string.format('{"orgId":"%s","feature":"API_CALLS","quantity":1,"idempotencyKey":"%s-%d-%d-%d"}', org, run, id, sequence, i)
  end
  return wrk.format("POST", "/api/v1/usage/events:batch", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
