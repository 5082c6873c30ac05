-- Gives back what one ticket took. KEYS[1]: the ticket's refund mark; KEYS[i + 1]: charge i's
-- key (every charge of the ticket, in its order). ARGV[1]: the ticket id, ARGV[2]: 'refund'
-- (everything: counts, log entries, leases) or 'release' (leases only), ARGV[3]: how long the
-- refund mark lives (ms), then two values per charge: kind ('f', 'r', 'c') and amount.
-- Idempotent, so a retry after a dropped connection cannot give back twice: log entries and
-- leases are removed by name, and a ticket's counts are given back only once (the mark).
local ticket, mode = ARGV[1], ARGV[2]
local counts = mode == 'refund' and redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3])
for i = 1, #KEYS - 1 do
  local kind, amount = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local key = KEYS[i + 1]
  if kind == 'f' then
    if counts then
      local count, n = tonumber(redis.call('GET', key) or '0'), tonumber(amount)
      if count > 0 and n > 0 then
        if count <= n then
          redis.call('DEL', key)
        else
          redis.call('DECRBY', key, amount)
        end
      end
    end
  elseif kind == 'c' or mode == 'refund' then
    redis.call('ZREM', key, ticket .. ':' .. i .. ':' .. amount)
  end
end
return 1
