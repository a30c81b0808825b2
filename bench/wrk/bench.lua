-- wrk script for every scenario: requests come from a file, one per line, as
--   METHOD<TAB>PATH<TAB>BEARER-TOKEN-OR-EMPTY<TAB>JSON-BODY-OR-EMPTY<TAB>HEADERS-OR-EMPTY
-- (HEADERS: "Name: value" pairs separated by "|") and are sent in turn (a single line = a
-- single request type).
--
-- Distinct tokens: with BENCH_TOKENS set (a file of tokens, one per line), the request file
-- holds one line whose token field is the placeholder {token}, and every request carries the
-- next token of the thread's own slice: thread k of n takes lines k, k+n, k+2n, ... Nothing
-- wraps: a thread whose slice runs out sends one request without a token (a 401, so an
-- error) and stops, and counts it in tokens_exhausted. done() reports each thread's
-- tokens_used, from which the harness knows which tokens are spent.
--
-- Every response that is not
-- 2xx is counted per status; BENCH_STOP_AFTER (per thread) ends a thread after that many
-- responses, for runs measured in requests rather than seconds: the thread then appends a
-- line to BENCH_DONE_FILE, and the harness sends wrk SIGINT (which ends the run early but
-- still calls done()) once every thread has. done() prints one line:
--   BENCHJSON {...}
-- with throughput, latency percentiles (microseconds), the error counts and the token use.

local threads = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

local TOKEN = "{token}"

local function format_request(f, token)
  local headers = { ["Accept"] = "application/json" }
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  local body = nil
  if f[4] and f[4] ~= "" then
    body = f[4]
    headers["Content-Type"] = "application/json"
  end
  if f[5] and f[5] ~= "" then
    for pair in (f[5] .. "|"):gmatch("([^|]*)|") do
      local name, value = pair:match("^([^:]+):%s*(.*)$")
      if name then
        headers[name] = value
      end
    end
  end
  return wrk.format(f[1], f[2], headers, body)
end

local function load_requests(file)
  local list = {}
  for line in io.lines(file) do
    if line ~= "" then
      table.insert(list, split(line))
    end
  end
  return list
end

-- This thread's slice of the token file: lines id, id + n, id + 2n, ... (n threads).
local function load_tokens(file, id, n)
  local mine, index = {}, 0
  for line in io.lines(file) do
    if line ~= "" then
      if index % n == id - 1 then
        mine[#mine + 1] = line
      end
      index = index + 1
    end
  end
  return mine
end

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local lines = load_requests(os.getenv("BENCH_REQUESTS"))
  local token_file = os.getenv("BENCH_TOKENS") or ""
  requests_list = {}
  tokens = nil
  if token_file ~= "" then
    if #lines ~= 1 or lines[1][3] ~= TOKEN then
      error("BENCH_TOKENS needs one request line whose token field is " .. TOKEN)
    end
    tokens = load_tokens(token_file, id, tonumber(os.getenv("BENCH_THREADS")))
    -- The request split around the token: each request is three strings joined.
    local template = format_request(lines[1], TOKEN)
    local at = template:find(TOKEN, 1, true)
    before_token = template:sub(1, at - 1)
    after_token = template:sub(at + #TOKEN)
    no_token = format_request(lines[1], nil)
  else
    for _, f in ipairs(lines) do
      table.insert(requests_list, format_request(f, f[3]))
    end
  end
  stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")
  next_index = 1
  tokens_used = 0
  tokens_exhausted = 0
  responses = 0
  non2xx = 0
  statuses = {}
end

function request()
  if tokens then
    if tokens_used >= #tokens then
      -- Out of fresh tokens: never reuse one. This request is refused (and counted), and
      -- the thread stops.
      tokens_exhausted = tokens_exhausted + 1
      wrk.thread:stop()
      return no_token
    end
    tokens_used = tokens_used + 1
    return before_token .. tokens[tokens_used] .. after_token
  end
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
  local used, exhausted = {}, 0
  for _, thread in ipairs(threads) do
    table.insert(used, tostring(thread:get("tokens_used")))
    exhausted = exhausted + thread:get("tokens_exhausted")
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
      .. '"p99": %d}, "tokens_used": [%s], "tokens_exhausted": %d}\n',
    summary.duration, summary.requests, total_responses, summary.bytes,
    total_non2xx, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    table.concat(used, ", "), exhausted
  ))
end
