-- PUT /blob/{id}: id uniform over all blobs, a body of 4 to 16 KiB of random bytes.
-- wrk -t2 -c64 -d10s --latency -s put.lua http://127.0.0.1:PORT -- BLOB_COUNT
-- Bodies are drawn at start (64 per wrk thread, random sizes) and picked at random per request, so
-- building a body costs the load generator nothing during the run. Fixed seeds per wrk thread.

local BODIES = 64
local MIN_SIZE, MAX_SIZE = 4 * 1024, 16 * 1024

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local count
local bodies = {}
function init(args)
  count = tonumber(args[1]) or 20000
  math.randomseed(3000 + thread_number)
  for b = 1, BODIES do
    local bytes = {}
    for i = 1, math.random(MIN_SIZE, MAX_SIZE) do
      bytes[i] = string.char(math.random(0, 255))
    end
    bodies[b] = table.concat(bytes)
  end
end

function request()
  local body = bodies[math.random(1, BODIES)]
  return wrk.format("PUT", "/blob/" .. math.random(0, count - 1), nil, body)
end
