-- How much of each charge's bound is left, taking nothing. KEYS and ARGV as for reserve.lua.
-- Returns one number per charge: max minus what the key holds (0 at least).
local out = {}
local function sum_after(key, from)
  local members = redis.call('ZRANGEBYSCORE', key, '(' .. from, '+inf')
  local sum = 0
  for _, m in ipairs(members) do
    sum = sum + (tonumber(string.match(m, ':(%d+)$')) or 0)
  end
  return sum
end
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 5
  local kind, max = ARGV[base + 1], tonumber(ARGV[base + 3])
  local used = 0
  if kind == 'f' then
    used = tonumber(redis.call('GET', KEYS[i]) or '0')
  elseif kind == 'r' then
    used = sum_after(KEYS[i], ARGV[base + 4])
  else
    used = sum_after(KEYS[i], ARGV[1])
  end
  out[i] = math.max(max - used, 0)
end
return out
