-- The soak's mixed load over ORGS organisations: checks, limits pages, tracks (record and enforce), reservations
-- (each one committed by the next request of its thread), batches of 100 events and history reads. Every call
-- must succeed (2xx): the soak counts anything else as an error.
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
dofile(os.getenv("BENCH_SCRIPTS") .. "/holds.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local run = os.getenv("RUN") or tostring(os.time())
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local sequence = 0

local function org() return "bench-" .. math.random(1, orgs) end

local function batch()
  sequence = sequence + 1
  local events = {}
  for i = 1, 100 do
    events[i] = string.format('{"orgId":"%s","feature":"API_CALLS","quantity":1,"idempotencyKey":"soak-%s-%d-%d-%d"}', org(), run, id, sequence, i)
  end
  return wrk.format("POST", "/api/v1/usage/events:batch", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end

request = function()
  local commit = next_commit(headers)
  if commit then return commit end
  local pick = math.random(1, 100)
  if pick <= 45 then return wrk.format("GET", "/api/v1/usage/" .. org() .. "/check/AI_MESSAGES", headers) end
  if pick <= 50 then return wrk.format("GET", "/api/v1/usage/" .. org() .. "/limits", headers) end
  if pick <= 70 then return wrk.format("POST", "/api/v1/usage/" .. org() .. "/track", headers, '{"feature":"AI_MESSAGES","quantity":1}') end
  if pick <= 80 then return wrk.format("POST", "/api/v1/usage/" .. org() .. "/track", headers, '{"feature":"AI_MESSAGES","quantity":1,"enforce":true}') end
  if pick <= 88 then
    return wrk.format("POST", "/api/v1/usage/" .. org() .. "/reservations", headers, '{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":300}')
  end
  if pick <= 90 then return batch() end
  return wrk.format("GET", "/api/v1/usage/" .. org() .. "/history?feature=AI_MESSAGES&granularity=day", headers)
end

response = keeping_holds(response)
