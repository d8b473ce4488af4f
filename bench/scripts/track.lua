-- POST /track for a random organisation among ORGS (record mode; ENFORCE=1: enforce mode), or one organisation (HOT) in enforce mode.
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local hot = os.getenv("HOT")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
if os.getenv("ASYNC") then headers["Prefer"] = "respond-async" end
local body = (hot or os.getenv("ENFORCE")) and '{"feature":"AI_MESSAGES","quantity":1,"enforce":true}' or '{"feature":"AI_MESSAGES","quantity":1}'

request = function()
  local org = hot or ("bench-" .. math.random(1, orgs))
  return wrk.format("POST", "/api/v1/usage/" .. org .. "/track", headers, body)
end
