-- Takes every charge of one call, or none (a script runs atomically on the Redis side).
-- KEYS[i]: charge i's key. ARGV[1]: now (Unix ms), ARGV[2]: the ticket id, then five values per
-- charge: kind, amount, max, p, ttl, where kind is
--   'f' a calendar window: p = the window's end; the key is the window's count,
--   'r' a rolling window: p = the cutoff (entries scored at or before it have left the span);
--       the key is a sorted set of '<ticket>:<i>:<amount>' scored by when they were taken,
--   'c' calls in flight: p = this lease's expiry; the key is a sorted set of leases
--       '<ticket>:<i>:<amount>' scored by when they expire,
-- and ttl (ms) is how long the key must live at least.
-- Returns {1} when everything was taken; else {0, i - 1, retry_after_ms} for the charge that
-- binds longest (retry_after_ms -1: it never fits).
local now = tonumber(ARGV[1])
local ticket = ARGV[2]

-- The entries of a log scored after `from` (a string), in score order, and their sum.
local function log(key, from)
  local flat = redis.call('ZRANGEBYSCORE', key, '(' .. from, '+inf', 'WITHSCORES')
  local entries, sum = {}, 0
  for j = 1, #flat, 2 do
    local amount = tonumber(string.match(flat[j], ':(%d+)$')) or 0
    sum = sum + amount
    entries[#entries + 1] = { amount, tonumber(flat[j + 1]) }
  end
  return sum, entries
end

-- How long until enough entries leave for `amount` to fit; an entry leaves at score - base.
local function wait_for(entries, used, amount, max, base)
  local freed = 0
  for _, e in ipairs(entries) do
    freed = freed + e[1]
    if used - freed + amount <= max then
      return math.max(e[2] - base, 1)
    end
  end
  return -1
end

local taking = {} -- what earlier charges of this call take from the same key
local worst_index, worst_retry = nil, nil
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 5
  local kind = ARGV[base + 1]
  local amount, max, p = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local key = KEYS[i]
  local before = taking[key] or 0
  local used, retry = 0, nil
  if kind == 'f' then
    used = tonumber(redis.call('GET', key) or '0') + before
    if used + amount > max then
      retry = math.max(p - now, 1)
    end
  elseif kind == 'r' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[base + 4])
    local sum, entries = log(key, ARGV[base + 4])
    used = sum + before
    if used + amount > max then
      retry = wait_for(entries, used, amount, max, p)
    end
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
    local sum, entries = log(key, ARGV[1])
    used = sum + before
    if used + amount > max then
      retry = wait_for(entries, used, amount, max, now)
    end
  else
    return redis.error_reply('unknown charge kind')
  end
  if retry ~= nil and amount > max then
    retry = -1
  end
  if retry ~= nil then
    if worst_index == nil or (worst_retry ~= -1 and (retry == -1 or retry > worst_retry)) then
      worst_index, worst_retry = i, retry
    end
  end
  taking[key] = before + amount
end
if worst_index ~= nil then
  return { 0, worst_index - 1, worst_retry }
end

-- Everything fits: take it.
local function keep(key, ttl)
  local left = redis.call('PTTL', key)
  if left < tonumber(ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 5
  local kind, amount, ttl = ARGV[base + 1], ARGV[base + 2], ARGV[base + 5]
  local key = KEYS[i]
  if tonumber(amount) > 0 then
    if kind == 'f' then
      redis.call('INCRBY', key, amount)
      keep(key, ttl)
    else
      local score = ARGV[1]
      if kind == 'c' then
        score = ARGV[base + 4]
      end
      redis.call('ZADD', key, score, ticket .. ':' .. i .. ':' .. amount)
      keep(key, ttl)
    end
  end
end
return { 1 }
