-- wrk script: 4 KiB-class S3 GETs or PUTs, every request SigV4 header-signed as it is sent,
-- the way an SDK signs (a fresh x-amz-date and signature per request; the signing key is derived
-- once, as SDKs cache it per day). Hashing uses OpenSSL's libcrypto, which wrk links already,
-- through LuaJIT's FFI: the generator then spends a few µs per request instead of the tens of µs
-- a Node generator spends, and the two cores it shares with the server go to the server.
--
-- Configured by environment (set by bench/scenarios/wrk-load.ts):
--   CAIRN_WRK_METHOD   GET or PUT
--   CAIRN_WRK_BUCKET   bucket name
--   CAIRN_WRK_PREFIX   key prefix; keys are PREFIX .. n for n in [0, CAIRN_WRK_KEYS). Paths are
--                      signed as they are, so the prefix must need no URI encoding.
--   CAIRN_WRK_KEYS     number of keys to rotate over
--   CAIRN_WRK_SIZE     PUT body size in bytes (every body differs: a per-run random base with
--                      the thread and a counter written into it)
--   CAIRN_WRK_THREADS  wrk's -t
--   CAIRN_WRK_ACCESS_KEY, CAIRN_WRK_SECRET, CAIRN_WRK_REGION
--   CAIRN_WRK_ACL      optional: a canned ACL sent (and signed, as S3 wants every x-amz-* header)
--                      as x-amz-acl on every request
--   CAIRN_WRK_ANONYMOUS optional: "1" sends the requests unsigned (no Authorization, no x-amz-*)
--   CAIRN_WRK_HEADERS  optional: more x-amz-* headers, "name:value" lines (lower-case names),
--                      sent and signed with every request (SSE-C's customer key headers)
-- done() prints one JSON line with the counts, errors and latency percentiles (µs).

local ffi = require("ffi")
ffi.cdef [[
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
const void *EVP_sha256(void);
unsigned char *HMAC(const void *evp_md, const void *key, int key_len, const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int RAND_bytes(unsigned char *buf, int num);
]]
local C = ffi.C
local digest = ffi.new("unsigned char[32]")
local digestLen = ffi.new("unsigned int[1]")

local function sha256(s)
  C.SHA256(s, #s, digest)
  return ffi.string(digest, 32)
end

local function hmac(key, s)
  C.HMAC(C.EVP_sha256(), key, #key, s, #s, digest, digestLen)
  return ffi.string(digest, 32)
end

local HEX = {}
for i = 0, 255 do HEX[i] = string.format("%02x", i) end
local function hex(b)
  local t = {}
  for i = 1, #b do t[i] = HEX[b:byte(i)] end
  return table.concat(t)
end

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error("wrk-sigv4.lua: " .. name .. " is not set") end
  return v
end

local method = env("CAIRN_WRK_METHOD")
local bucket = env("CAIRN_WRK_BUCKET")
local prefix = env("CAIRN_WRK_PREFIX")
local keys = tonumber(env("CAIRN_WRK_KEYS"))
local size = tonumber(os.getenv("CAIRN_WRK_SIZE") or "0")
local accessKey = env("CAIRN_WRK_ACCESS_KEY")
local secret = env("CAIRN_WRK_SECRET")
local region = env("CAIRN_WRK_REGION")
local acl = os.getenv("CAIRN_WRK_ACL") or ""
local anonymous = os.getenv("CAIRN_WRK_ANONYMOUS") == "1"
-- The extra signed headers, sorted: SigV4's canonical headers go by name, so those before
-- x-amz-content-sha256 and those after x-amz-date sit on either side of the per-request two.
local extra = {}
if acl ~= "" then extra[#extra + 1] = { "x-amz-acl", acl } end
for line in (os.getenv("CAIRN_WRK_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):(.*)$")
  extra[#extra + 1] = { name, value }
end
table.sort(extra, function(a, b) return a[1] < b[1] end)
local preNames, postNames, preLines, postLines, headLines = "", "", "", "", ""
for _, h in ipairs(extra) do
  if h[1] < "x-amz-content-sha256" then
    preNames = preNames .. ";" .. h[1]
    preLines = preLines .. h[1] .. ":" .. h[2] .. "\n"
  else
    postNames = postNames .. ";" .. h[1]
    postLines = postLines .. h[1] .. ":" .. h[2] .. "\n"
  end
  headLines = headLines .. "\r\n" .. h[1] .. ": " .. h[2]
end
local SIGNED = "host" .. preNames .. ";x-amz-content-sha256;x-amz-date" .. postNames
local aclLine = preLines
local EMPTY_SHA256 = hex(sha256(""))

local nthreads = tonumber(env("CAIRN_WRK_THREADS"))

-- setup() runs in the main Lua state for each thread just before that thread starts: it gives
-- each thread its number, so the threads walk the keys interleaved and PUT bodies never collide.
local nextThread = 0
function setup(thread)
  thread:set("tid", nextThread)
  nextThread = nextThread + 1
end

-- Per-thread state (each wrk thread has its own Lua state).
local host, n, day, kSigning, stampSecond, stamp, base

function init(args)
  host = wrk.headers["Host"]
  n = 0
  if method == "PUT" then
    local buf = ffi.new("unsigned char[?]", size)
    if C.RAND_bytes(buf, size) ~= 1 then error("RAND_bytes failed") end
    base = ffi.string(buf, size)
  end
end

local function amzDate()
  local now = os.time()
  if now ~= stampSecond then
    stampSecond = now
    stamp = os.date("!%Y%m%dT%H%M%SZ", now)
    local d = stamp:sub(1, 8)
    if d ~= day then
      day = d
      kSigning = hmac(hmac(hmac(hmac("AWS4" .. secret, day), region), "s3"), "aws4_request")
    end
  end
  return stamp
end

function request()
  local i = tid + n * nthreads
  n = n + 1
  local path = "/" .. bucket .. "/" .. prefix .. (i % keys)
  if anonymous then
    if method ~= "GET" then error("wrk-sigv4.lua: anonymous requests are GETs only") end
    return "GET " .. path .. " HTTP/1.1\r\nHost: " .. host .. "\r\n\r\n"
  end
  local date = amzDate()
  local body, payloadHash = "", EMPTY_SHA256
  if method == "PUT" then
    -- 16 bytes that no other request of this run carries (thread, counter), then the random base.
    body = string.format("%08x%08x", tid, n) .. base:sub(17)
    payloadHash = hex(sha256(body))
  end
  local canonical = method .. "\n" .. path .. "\n\nhost:" .. host .. "\n" .. aclLine .. "x-amz-content-sha256:" .. payloadHash ..
    "\nx-amz-date:" .. date .. "\n" .. postLines .. "\n" .. SIGNED .. "\n" .. payloadHash
  local scope = day .. "/" .. region .. "/s3/aws4_request"
  local toSign = "AWS4-HMAC-SHA256\n" .. date .. "\n" .. scope .. "\n" .. hex(sha256(canonical))
  local signature = hex(hmac(kSigning, toSign))
  local head = method .. " " .. path .. " HTTP/1.1\r\nHost: " .. host ..
    headLines .. "\r\nx-amz-content-sha256: " .. payloadHash .. "\r\nx-amz-date: " .. date ..
    "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" .. accessKey .. "/" .. scope ..
    ", SignedHeaders=" .. SIGNED .. ", Signature=" .. signature
  if method == "PUT" then
    return head .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
  end
  return head .. "\r\n\r\n"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
