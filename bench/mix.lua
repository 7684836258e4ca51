-- The mix of `bench run` for wrk. Its arguments: the delay in ms between
-- the requests of a connection (0 for none), then three per request of
-- the mix: method, path and JSON body ("" for none). It sends the requests
-- in turn and prints its figures on one line: requests, requests/s,
-- socket errors, p50 and p99 in µs.
local requests, next = {}, 0

function init(args)
  local pause = tonumber(args[1])
  if pause > 0 then
    function delay() return pause end
  end
  for i = 2, #args, 3 do
    local headers, body = nil, nil
    if args[i + 2] ~= "" then
      headers, body = {["Content-Type"] = "application/json"}, args[i + 2]
    end
    table.insert(requests, wrk.format(args[i], args[i + 1], headers, body))
  end
end

function request()
  next = next % #requests + 1
  return requests[next]
end

function done(summary, latency)
  local e = summary.errors
  io.write(string.format("\nmix.lua: %d %f %d %d %d\n", summary.requests, summary.requests / (summary.duration / 1e6),
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
