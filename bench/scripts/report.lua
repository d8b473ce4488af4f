-- Shared by every wrk scenario: counts responses by status per thread and prints one machine-readable line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  ok, payment, other = 0, 0, 0
  -- Each thread its own random sequence (organisations, keys), or the threads would send the same requests.
  math.randomseed(os.time() * 100 + id)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 402 then payment = payment + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local ok_total, payment_total, other_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    payment_total = payment_total + thread:get("payment")
    other_total = other_total + thread:get("other")
  end
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f ok=%d payment=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    ok_total, payment_total, other_total + socket_errors))
end
