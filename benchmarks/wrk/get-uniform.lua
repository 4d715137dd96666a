-- GET /blob/{id}, id uniform over all blobs.
-- wrk -t2 -c64 -d10s --latency -s get-uniform.lua http://127.0.0.1:PORT -- BLOB_COUNT
-- Each wrk thread draws from its own fixed seed, so every server version gets the same id sequence.

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local count
function init(args)
  count = tonumber(args[1]) or 20000
  math.randomseed(1000 + thread_number)
end

function request()
  return wrk.format("GET", "/blob/" .. math.random(0, count - 1))
end
