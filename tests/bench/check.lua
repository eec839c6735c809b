-- wrk script: POST the chat request, count answers that are not a 200 carrying the upstream's text.
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local expect = os.getenv("BENCH_EXPECT")
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  good = 0
end

function response(status, headers, resp_body)
  if status == 200 and resp_body and string.find(resp_body, expect, 1, true) then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total, good_total = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    good_total = good_total + t:get("good")
  end
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %.3f, "good": %d, "bad": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration / 1e6, good_total, bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
