#!lua name=feed
-- The Redis + Lua baseline: the same hybrid feed as feed-server, written as
-- Redis Functions the way a team would without it. Load with
--   redis-cli -x FUNCTION LOAD REPLACE < bench/baselines/feed.lua
--
-- Keys (u = user name):
--   following:u, followers:u   sets of user names
--   timeline:u                 zset of post ids (score = id), capped at CAP
--   recent:u                   zset of the author's own post ids, capped at CAP
--   post:id                    hash: author, ts, body
--   celebrities                set of authors with >= THRESHOLD followers
--   next_post_id               counter; ids grow with time, like feed-server's
local CAP = 800
local THRESHOLD = 5000

local function cap(key)
  redis.call('ZREMRANGEBYRANK', key, 0, -(CAP + 1))
end

-- FCALL feed_post 1 author body -> post id
local function feed_post(keys, args)
  local author, body = keys[1], args[1]
  local id = redis.call('INCR', 'next_post_id')
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('HSET', 'post:' .. id, 'author', author, 'ts', ms, 'body', body)
  redis.call('ZADD', 'recent:' .. author, id, id)
  cap('recent:' .. author)
  if redis.call('SISMEMBER', 'celebrities', author) == 1 then
    return id -- pulled by readers
  end
  for _, follower in ipairs(redis.call('SMEMBERS', 'followers:' .. author)) do
    redis.call('ZADD', 'timeline:' .. follower, id, id)
    cap('timeline:' .. follower)
  end
  return id
end

-- FCALL_RO feed_read 1 user count -> [[id, author, ts, body], ...] newest first
local function feed_read(keys, args)
  local user, count = keys[1], tonumber(args[1])
  local ids = redis.call('ZREVRANGE', 'timeline:' .. user, 0, count - 1)
  -- Merge the recent posts of followed celebrities (pull).
  local celebrities = redis.call('SINTER', 'following:' .. user, 'celebrities')
  if #celebrities > 0 then
    local seen = {}
    for _, id in ipairs(ids) do seen[id] = true end
    for _, celebrity in ipairs(celebrities) do
      for _, id in ipairs(redis.call('ZREVRANGE', 'recent:' .. celebrity, 0, count - 1)) do
        -- Posts pushed before the author became a celebrity are in both.
        if not seen[id] then
          seen[id] = true
          ids[#ids + 1] = id
        end
      end
    end
    table.sort(ids, function(a, b) return tonumber(a) > tonumber(b) end)
  end
  local entries = {}
  for index = 1, math.min(count, #ids) do
    local fields = redis.call('HMGET', 'post:' .. ids[index], 'author', 'ts', 'body')
    entries[#entries + 1] = {tonumber(ids[index]), fields[1], tonumber(fields[2]), fields[3]}
  end
  return entries
end

-- FCALL feed_follow 2 follower followee -> 1 if new, 0 if already
local function feed_follow(keys, args)
  local follower, followee = keys[1], keys[2]
  if follower == followee then return redis.error_reply('ERR a user cannot follow themselves') end
  if redis.call('SADD', 'following:' .. follower, followee) == 0 then return 0 end
  redis.call('SADD', 'followers:' .. followee, follower)
  if redis.call('SCARD', 'followers:' .. followee) >= THRESHOLD then
    redis.call('SADD', 'celebrities', followee)
  else
    -- Backfill the followee's recent posts (a celebrity's are pulled instead).
    for _, id in ipairs(redis.call('ZREVRANGE', 'recent:' .. followee, 0, CAP - 1)) do
      redis.call('ZADD', 'timeline:' .. follower, id, id)
    end
    cap('timeline:' .. follower)
  end
  return 1
end

-- FCALL feed_unfollow 2 follower followee -> 1 if it was followed
local function feed_unfollow(keys, args)
  local follower, followee = keys[1], keys[2]
  if redis.call('SREM', 'following:' .. follower, followee) == 0 then return 0 end
  redis.call('SREM', 'followers:' .. followee, follower)
  if redis.call('SCARD', 'followers:' .. followee) < THRESHOLD then
    redis.call('SREM', 'celebrities', followee)
  end
  -- Drop the followee's posts from the timeline.
  for _, id in ipairs(redis.call('ZRANGE', 'recent:' .. followee, 0, -1)) do
    redis.call('ZREM', 'timeline:' .. follower, id)
  end
  return 1
end

redis.register_function('feed_post', feed_post)
redis.register_function{function_name = 'feed_read', callback = feed_read, flags = {'no-writes'}}
redis.register_function('feed_follow', feed_follow)
redis.register_function('feed_unfollow', feed_unfollow)
