-- Sends the requests given as arguments in turn, each as three arguments
-- (method, path, JSON body or ""), after the first argument: a delay in ms
-- between the requests of a connection, 0 for none. Prints its figures as
-- one JSON line.
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
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%f,"errors":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
