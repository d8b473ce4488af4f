-- GET check (or limits with LIMITS=1) for a random organisation among ORGS, or for one organisation (ORG).
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local fixed = os.getenv("ORG")
local limits = os.getenv("LIMITS")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }

request = function()
  local org = fixed or ("bench-" .. math.random(1, orgs))
  local path = limits and ("/api/v1/usage/" .. org .. "/limits") or ("/api/v1/usage/" .. org .. "/check/AI_MESSAGES")
  return wrk.format("GET", path, headers)
end
