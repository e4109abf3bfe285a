-- wrk script for tools/dev/bench.sh. Arguments after "--":
--   register PREFIX         POST /api/auth/register, a new account per request (expects 201)
--   login EMAIL             POST /api/auth/login for one account (expects 200)
--   mfastep1 EMAIL          the same for an account with two-step sign-in (expects 401
--                           mfa_required: the password was checked, a challenge stored)
--   get PATH [CREDENTIAL]   GET PATH (expects 200) with an optional credential: a session
--                           cookie ("authsvc=..."), or a whole header written "Name: value"
--                           ("Authorization: Bearer <access token>")
--   forgot EMAIL            POST /api/auth/forgot-password for one address (expects 202)
-- At the end it prints "BENCH_NON_EXPECTED n": responses with another status, and
-- "BENCH_THROTTLED n429 n503": how many of those were 429 (rate_limited) and 503
-- (busy: the password hash cap; or unavailable), so that a throttle shows in the figures.
local threads = {}
local counter = 0

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    mode, arg1, arg2 = args[1], args[2], args[3]
    -- every thread has its own Lua state: a table's address tells them apart
    salt = tostring({}):gsub("[^%w]", "")
    json = {["Content-Type"] = "application/json"}
    expect = ({register = 201, forgot = 202, mfastep1 = 401})[mode] or 200
    if mode == "login" or mode == "mfastep1" then
        body = string.format('{"login":"%s","password":"correct horse battery staple"}', arg1)
    elseif mode == "forgot" then
        body = string.format('{"email":"%s"}', arg1)
    end
    headers = {}
    if mode == "get" and arg2 and arg2 ~= "" then
        local name, value = arg2:match("^([%w-]+):%s*(.+)$")
        if name then
            headers[name] = value
        else
            headers["Cookie"] = arg2
        end
    end
end

function request()
    if mode == "register" then
        counter = counter + 1
        return wrk.format("POST", "/api/auth/register", json, string.format(
            '{"email":"%s-%s-%d@bench.example.com","password":"correct horse battery staple"}',
            arg1, salt, counter))
    elseif mode == "login" or mode == "mfastep1" then
        return wrk.format("POST", "/api/auth/login", json, body)
    elseif mode == "forgot" then
        return wrk.format("POST", "/api/auth/forgot-password", json, body)
    end
    return wrk.format("GET", arg1, headers)
end

function response(status, headers, body)
    if status ~= expect then
        bad = (bad or 0) + 1
        if status == 429 then
            n429 = (n429 or 0) + 1
        elseif status == 503 then
            n503 = (n503 or 0) + 1
        end
    end
end

function done(summary, latency, requests)
    local nbad, t429, t503 = 0, 0, 0
    for _, t in ipairs(threads) do
        nbad = nbad + (t:get("bad") or 0)
        t429 = t429 + (t:get("n429") or 0)
        t503 = t503 + (t:get("n503") or 0)
    end
    io.write(string.format("BENCH_NON_EXPECTED %d\nBENCH_THROTTLED %d %d\n", nbad, t429, t503))
end
