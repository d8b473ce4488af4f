-- A unit of work in two calls: reserve 1 AI_MESSAGES for a random organisation among ORGS, then commit it
-- (POST /reservations, then POST /reservations/{id}/commit). Each thread commits the holds its connections made.
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
local orgs = tonumber(os.getenv("ORGS") or "1000")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local reserve = '{"feature":"AI_MESSAGES","quantity":1,"expiresInSeconds":300}'
local held = {}
local count = response

request = function()
  local hold = table.remove(held)
  if hold then
    return wrk.format("POST", "/api/v1/usage/" .. hold.org .. "/reservations/" .. hold.id .. "/commit", headers, "{}")
  end
  return wrk.format("POST", "/api/v1/usage/bench-" .. math.random(1, orgs) .. "/reservations", headers, reserve)
end

response = function(status, headers, body)
  if status == 201 then
    local id, org = body:match('"reservationId":"([^"]+)","orgId":"([^"]+)"')
    if id then table.insert(held, { id = id, org = org }) end
  end
  count(status, headers, body)
end
