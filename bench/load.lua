-- wrk script for bench/load.py (issue 14, "Build" 3). Read from the environment:
--   LOAD_METHOD   GET, POST or PATCH
--   LOAD_PATH     the path; "{id}" is replaced by the next id
--   LOAD_BODY     the body ("" for none); "{id}" as in the path
--   LOAD_IDS      a file of ids, one a line (optional without "{id}")
--   LOAD_HEADERS  "Name: value" lines separated by "\n" (auth, content type)
-- Thread t of T takes ids t, t+T, t+2T, ... so no two requests of a run share an id until the
-- list wraps. Every response's status is counted; done() prints one line "LOAD_RESULT {json}"
-- with the requests, duration, socket errors, the counts by status and the latency percentiles
-- (microseconds).

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("index", thread_count)
  table.insert(threads, thread)
end

local ids = {}
local position = 0
local step = 1
local method, path, body
local headers = {}
statuses = {}  -- global: done() reads each thread's with thread:get

function init(args)
  method = os.getenv("LOAD_METHOD") or "GET"
  path = os.getenv("LOAD_PATH") or "/"
  body = os.getenv("LOAD_BODY") or ""
  local file = os.getenv("LOAD_IDS") or ""
  if file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then table.insert(ids, line) end
    end
  end
  for line in string.gmatch(os.getenv("LOAD_HEADERS") or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  step = tonumber(os.getenv("LOAD_THREADS") or "1")
  position = (index or 1) - 1
end

function request()
  local p, b = path, body
  if #ids > 0 then
    local id = ids[(position % #ids) + 1]
    position = position + step
    p = string.gsub(p, "{id}", id)
    b = string.gsub(b, "{id}", id)
  end
  if b == "" then b = nil end
  return wrk.format(method, p, headers, b)
end

function response(status, response_headers, response_body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local theirs = thread:get("statuses")
    for key, n in pairs(theirs) do counts[key] = (counts[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(counts) do table.insert(parts, string.format('"%s": %d', key, n)) end
  local e = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
