dofile(os.getenv("BENCH_SCRIPTS") .. "/report.lua")
request = function() return wrk.format("GET", "/ping") end
