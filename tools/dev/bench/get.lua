-- wrk: GET a path with a session cookie (args: path, cookie header value or "").
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    path = args[1]
    headers = {}
    if args[2] and args[2] ~= "" then
        headers["Cookie"] = args[2]
    end
end

function request()
    return wrk.format("GET", path, headers)
end

function response(status, headers, body)
    if status ~= 200 then
        bad = (bad or 0) + 1
    end
end

function done(summary, latency, requests)
    local nbad = 0
    for _, t in ipairs(threads) do nbad = nbad + (t:get("bad") or 0) end
    io.write(string.format("BENCH_NON_EXPECTED %d\n", nbad))
end
