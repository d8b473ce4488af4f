-- GET one path (GET_PATH) again and again: the history and event-log reads of one organisation.
dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
local path = os.getenv("GET_PATH")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }

request = function()
  return wrk.format("GET", path, headers)
end
