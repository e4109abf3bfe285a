-- wrk: POST /api/auth/register with a unique email per request (thread id + counter).
local counter = 0
local tid = 0
local threads = {}

function setup(thread)
    tid = tid + 1
    thread:set("tid", tid)
    table.insert(threads, thread)
end

function init(args)
    prefix = args[1] or "bench"
    -- each thread has its own Lua state: a table address tells them apart
    salt = tostring({}):gsub("[^%w]", "")
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"email":"%s-%s-%d-%d@bench.example.com","password":"correct horse battery staple"}',
        prefix, salt, tid, counter)
    return wrk.format("POST", "/api/auth/register",
                      {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
    if status ~= 201 then
        bad = (bad or 0) + 1
    end
end

function done(summary, latency, requests)
    local nbad = 0
    for _, t in ipairs(threads) do nbad = nbad + (t:get("bad") or 0) end
    io.write(string.format("BENCH_NON_EXPECTED %d\n", nbad))
end
