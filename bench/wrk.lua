-- wrk script for bench/run.py. The requests are prepared by run.py, one per line of the file
-- named by REQUESTS (one per fixed point, in points.csv order), so that the requests it checks
-- before measuring are exactly the requests measured here. MODE=graphql: each line is a JSON
-- body to POST to the URL; MODE=get: each line is a path to GET.
--
-- Every connection takes the next line, cycling. A GraphQL response whose body holds "errors"
-- is counted in gql_errors (the HTTP status is 200 all the same). done() prints one line,
-- WRKJSON {...}, which run.py parses.
local mode = os.getenv("MODE") or "graphql"
local requests = {}
local counter = 0
gql_errors = 0

function init(args)
  local f = assert(io.open(os.getenv("REQUESTS"), "r"))
  for line in f:lines() do
    if line ~= "" then
      if mode == "get" then
        requests[#requests + 1] = wrk.format("GET", line, nil, nil)
      else
        requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, line)
      end
    end
  end
  f:close()
  counter = math.random(1, #requests)
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

-- Only for GraphQL: a response() callback makes wrk hand every body to Lua.
if mode == "graphql" then
  function response(status, headers, body)
    if body:find('"errors"', 1, true) then gql_errors = gql_errors + 1 end
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, _)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local gql = 0
  for _, t in ipairs(threads) do gql = gql + (t:get("gql_errors") or 0) end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"non2xx":%d,"sock_errors":%d,' ..
    '"timeouts":%d,"gql_errors":%d,"bytes":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, e.timeout, gql, summary.bytes))
end
