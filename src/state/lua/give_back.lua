-- Gives back what one ticket took. KEYS[i]: charge i's key (every charge of the ticket, in its
-- order). ARGV[1]: the ticket id, ARGV[2]: 'refund' (everything: counts, log entries, leases)
-- or 'release' (leases only), then two values per charge: kind ('f', 'r', 'c') and amount.
local ticket, mode = ARGV[1], ARGV[2]
for i = 1, #KEYS do
  local kind, amount = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  local key = KEYS[i]
  if kind == 'c' or mode == 'refund' then
    if kind == 'f' then
      local count, n = tonumber(redis.call('GET', key) or '0'), tonumber(amount)
      if count > 0 and n > 0 then
        if count <= n then
          redis.call('DEL', key)
        else
          redis.call('DECRBY', key, amount)
        end
      end
    else
      redis.call('ZREM', key, ticket .. ':' .. i .. ':' .. amount)
    end
  end
end
return 1
