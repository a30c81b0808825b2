-- wrk script for every scenario: requests come from a file, one per line, as
--   METHOD<TAB>PATH<TAB>BEARER-TOKEN-OR-EMPTY<TAB>JSON-BODY-OR-EMPTY
-- and are sent in turn (a single line = a single request type). Every response that is not
-- 2xx is counted per status; BENCH_STOP_AFTER (per thread) ends a thread after that many
-- responses, for runs measured in requests rather than seconds: the thread then appends a
-- line to BENCH_DONE_FILE, and the harness sends wrk SIGINT (which ends the run early but
-- still calls done()) once every thread has. done() prints one line:
--   BENCHJSON {...}
-- with throughput, latency percentiles (microseconds) and the error counts.

local threads = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

local function load_requests(file)
  local list = {}
  for line in io.lines(file) do
    if line ~= "" then
      local f = split(line)
      local headers = { ["Accept"] = "application/json" }
      if f[3] and f[3] ~= "" then
        headers["Authorization"] = "Bearer " .. f[3]
      end
      local body = nil
      if f[4] and f[4] ~= "" then
        body = f[4]
        headers["Content-Type"] = "application/json"
      end
      table.insert(list, wrk.format(f[1], f[2], headers, body))
    end
  end
  return list
end

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  requests_list = load_requests(os.getenv("BENCH_REQUESTS"))
  stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")
  next_index = 1
  responses = 0
  non2xx = 0
  statuses = {}
end

function request()
  local r = requests_list[next_index]
  next_index = next_index % #requests_list + 1
  return r
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
  if stop_after > 0 and responses == stop_after then
    local marker = io.open(os.getenv("BENCH_DONE_FILE"), "a")
    marker:write("done\n")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_responses, total_non2xx, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_responses = total_responses + thread:get("responses")
    total_non2xx = total_non2xx + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"duration_us": %d, "requests": %d, "responses": %d, "bytes": %d, '
      .. '"non2xx": %d, "non2xx_by_status": {%s}, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, '
      .. '"p99": %d}}\n',
    summary.duration, summary.requests, total_responses, summary.bytes,
    total_non2xx, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)
  ))
end
