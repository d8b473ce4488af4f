-- A unit of work in two calls: reserve 1 AI_MESSAGES for a random organisation among ORGS, then commit it
-- (POST /reservations, then POST /reservations/{id}/commit). Each thread commits the holds its connections made.
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
dofile(os.getenv("BENCH_SCRIPTS") .. "/holds.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local reserve = '{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":300}'

request = function()
  local commit = next_commit(headers)
  if commit then return commit end
  return wrk.format("POST", "/api/v1/usage/bench-" .. math.random(1, orgs) .. "/reservations", headers, reserve)
end

response = keeping_holds(response)
