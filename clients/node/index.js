// feedclient: feed-server's commands as async methods with typed results,
// on node-redis 4. Types: index.d.ts. Post ids are decimal strings, as the
// server sends them (a 64-bit id does not survive a JavaScript Number).
import { createRequire } from 'node:module';

// node-redis 4 is CommonJS; Debian installs it outside node_modules
// (NODE_PATH=/usr/share/nodejs), which only require() looks at.
const require = createRequire(import.meta.url);
const { createClient, createCluster } = require('redis');
const calculateSlot = require('cluster-key-slot');  // node-redis's own, as RedisCluster routes

/** An error reply; `code` is its Redis error code. */
export class FeedServerError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}
/** ERR: bad input, no such post, a refused follow… Nothing changed. */
export class Err extends FeedServerError {}
/** TRYAGAIN: PostgreSQL is behind or away; the command did not happen. */
export class TryAgain extends FeedServerError {}
/** OOM: a write past --maxmemory; it did not happen. */
export class Oom extends FeedServerError {}
export class NoAuth extends FeedServerError {}
export class WrongPass extends FeedServerError {}
/** TIMEOUT: FEED.SYNC's writes were not committed in time. */
export class Timeout extends FeedServerError {}

const BY_CODE = { ERR: Err, TRYAGAIN: TryAgain, OOM: Oom, NOAUTH: NoAuth, WRONGPASS: WrongPass, TIMEOUT: Timeout };

function translate(error) {
  if (!(error instanceof Error) || error.constructor.name !== 'ErrorReply') return error;
  const match = /^([A-Z]+) ([\s\S]*)$/.exec(error.message);
  if (!match) return new Err('ERR', error.message);
  const Class = BY_CODE[match[1]] ?? Err;
  return new Class(match[1], match[2]);
}

function asMap(value) {
  const map = {};
  for (let index = 0; index < value.length; index += 2) map[value[index]] = value[index + 1];
  return map;
}

const number = (value) => (value === null || value === undefined ? undefined : Number(value));

/** A plain [id, author, created_ms, body] entry or a WITHMETA field/value list. */
function entry(value) {
  if (value.length === 4) {
    return { id: value[0], author: value[1], createdMs: Number(value[2]), body: value[3] };
  }
  const fields = asMap(value);
  const repost = fields.repost_of !== null && fields.repost_of !== undefined;
  const result = {
    id: fields.id,
    author: repost ? fields.reposted_by : fields.author,
    createdMs: Number(fields.ts),
    body: fields.body,
    likes: Number(fields.likes),
    replies: Number(fields.replies),
    reposts: Number(fields.reposts),
    replyTo: fields.reply_to ?? null,
    repostOf: fields.repost_of ?? null,
    originalAuthor: repost ? fields.author : null,
  };
  if (fields.score !== undefined) {
    Object.assign(result, {
      score: number(fields.score), recency: number(fields.recency), affinity: number(fields.affinity),
      engagement: number(fields.engagement), diversity: number(fields.diversity),
    });
  }
  return result;
}

/** Options given as [name, value] pairs, the unset ones left out. */
function options(pairs) {
  const out = [];
  for (const [name, value] of pairs) if (value !== undefined && value !== null) out.push(name, String(value));
  return out;
}

const flag = (reply) => Number(reply) === 1;
const entries = (reply) => reply.map(entry);

export class FeedClient {
  /**
   * @param {object} [config] node-redis's createClient options, or { host, port, password };
   * for a cluster (--cluster yes nodes), { nodes: [{ host, port }, …] }: commands then go
   * through node-redis's createCluster, each to the node that serves its user.
   */
  constructor(config = {}) {
    const { host, port, password, nodes, ...rest } = config;
    this.cluster = Array.isArray(nodes) && nodes.length > 0;
    if (this.cluster) {
      this.redis = createCluster({
        rootNodes: nodes.map((node) => ({ url: `redis://${node.host ?? '127.0.0.1'}:${node.port ?? 6380}` })),
        defaults: { ...(password ? { password } : {}), ...rest },
      });
    } else {
      this.redis = createClient({
        socket: { host: host ?? '127.0.0.1', port: port ?? 6380 },
        ...(password ? { password } : {}),
        ...rest,
      });
    }
    this.redis.on('error', () => {});  // errors reach the caller through the commands
  }

  async connect() { await this.redis.connect(); return this; }
  async quit() { await this.redis.quit(); }

  async run(args, parse) {
    try {
      const strings = args.map(String);
      // In a cluster, every FEED command's first argument is its key (its user).
      return parse(await (this.cluster ? this.redis.sendCommand(strings[1], false, strings) : this.redis.sendCommand(strings)));
    } catch (error) {
      throw translate(error);
    }
  }

  post(author, body, { replyTo } = {}) { return this.run(['FEED.POST', author, body, ...options([['REPLYTO', replyTo]])], String); }
  repost(user, postId) { return this.run(['FEED.REPOST', user, postId], String); }
  unrepost(user, postId) { return this.run(['FEED.UNREPOST', user, postId], flag); }
  delete(author, postId) { return this.run(['FEED.DELETE', author, postId], flag); }
  follow(follower, followee, { noReposts = false } = {}) {
    return this.run(['FEED.FOLLOW', follower, followee, ...(noReposts ? ['NOREPOSTS'] : [])], flag);
  }
  unfollow(follower, followee) { return this.run(['FEED.UNFOLLOW', follower, followee], flag); }
  read(user, { count, before, after, meta = false } = {}) {
    const args = ['FEED.READ', user, ...options([['COUNT', count], ['BEFORE', before], ['AFTER', after]])];
    return this.run(meta ? [...args, 'WITHMETA'] : args, entries);
  }
  readRanked(user, { count, page } = {}) {
    return this.run(['FEED.READ', user, 'RANKED', ...options([['COUNT', count], ['PAGE', page]]), 'WITHMETA'],
      ([next, list]) => ({ entries: entries(list), next: next === '0' ? null : next }));
  }
  posts(author, { count, before, meta = false } = {}) {
    const args = ['FEED.POSTS', author, ...options([['COUNT', count], ['BEFORE', before]])];
    return this.run(meta ? [...args, 'WITHMETA'] : args, entries);
  }
  get(ids, { meta = false } = {}) {
    return this.run(['FEED.GET', ...ids, ...(meta ? ['WITHMETA'] : [])], (reply) => reply.map((item) => (item ? entry(item) : null)));
  }
  replies(postId, { count, before } = {}) {
    return this.run(['FEED.REPLIES', postId, ...options([['COUNT', count], ['BEFORE', before]]), 'WITHMETA'], entries);
  }
  like(user, postId) { return this.run(['FEED.LIKE', user, postId], Number); }
  unlike(user, postId) { return this.run(['FEED.UNLIKE', user, postId], Number); }
  stats(user) {
    return this.run(['FEED.STATS', user], (reply) => {
      const fields = asMap(reply);
      return {
        followers: Number(fields.followers), following: Number(fields.following), posts: Number(fields.posts),
        timeline: Number(fields.timeline), celebrity: Number(fields.celebrity) === 1,
        unseen: Number(fields.unseen ?? 0), unread: Number(fields.unread ?? 0),
      };
    });
  }
  notifications(user, { count, before } = {}) {
    return this.run(['FEED.NOTIFICATIONS', user, ...options([['COUNT', count], ['BEFORE', before]])], (reply) => reply.map((item) => {
      const fields = asMap(item);
      return {
        id: String(fields.id), verb: String(fields.verb), object: fields.object == null ? null : String(fields.object),
        actors: fields.actors.map(String), actorCount: Number(fields.actor_count), updatedMs: Number(fields.updated_ms),
        seen: Number(fields.seen) === 1 || fields.seen === true, read: Number(fields.read) === 1 || fields.read === true,
      };
    }));
  }
  markSeen(user) { return this.run(['FEED.MARK', user, 'SEEN'], Number); }
  markRead(user, groupIds) { return this.run(['FEED.MARK', user, 'READ', ...groupIds], Number); }
  users(command, user, { count, after } = {}) { return this.run([command, user, ...options([['COUNT', count], ['AFTER', after]])], (r) => r); }
  followers(user, page) { return this.users('FEED.FOLLOWERS', user, page); }
  following(user, page) { return this.users('FEED.FOLLOWING', user, page); }
  mutes(user, page) { return this.users('FEED.MUTES', user, page); }
  blocks(user, page) { return this.users('FEED.BLOCKS', user, page); }
  mute(user, target) { return this.run(['FEED.MUTE', user, target], flag); }
  unmute(user, target) { return this.run(['FEED.UNMUTE', user, target], flag); }
  block(user, target) { return this.run(['FEED.BLOCK', user, target], flag); }
  unblock(user, target) { return this.run(['FEED.UNBLOCK', user, target], flag); }
  token(user, ttlSeconds) { return this.run(['FEED.TOKEN', user, ...(ttlSeconds === undefined ? [] : [ttlSeconds])], String); }
  /**
   * Resolves once every write acknowledged before it is in PostgreSQL. With several nodes,
   * FEED.SYNC goes to every node, twice round: then every node's feeds also reflect every
   * write acknowledged before it, whichever node took it.
   */
  async sync(timeoutMs) {
    const args = ['FEED.SYNC', ...(timeoutMs === undefined ? [] : [String(timeoutMs)])];
    if (!this.cluster) return this.run(args, () => undefined);
    try {
      for (let round = 0; round < 2; round += 1) {
        for (const master of this.redis.getMasters()) await master.client.sendCommand(args);
      }
    } catch (error) {
      throw translate(error);
    }
    return undefined;
  }

  /**
   * The events of the user's feed as they happen (channel feed:<user>), on
   * a connection of their own; leaving the loop (or return()) unsubscribes.
   */
  subscribe(user) {
    // A user's events are published on the node that serves the user.
    const subscriber = this.cluster ? this.redis.getSlotMaster(calculateSlot(user)).client.duplicate() : this.redis.duplicate();
    subscriber.on('error', () => {});
    const queue = [];
    const waiting = [];
    let ready = null;
    const start = async () => {
      await subscriber.connect();
      await subscriber.subscribe(`feed:${user}`, (message) => {
        const data = JSON.parse(message);
        const event = { event: data.event, id: data.id, author: data.author ?? null, ts: data.ts ?? null, body: data.body ?? null };
        const resolve = waiting.shift();
        if (resolve) resolve({ value: event, done: false }); else queue.push(event);
      });
    };
    const iterator = {
      /** Resolves once the subscription is in place. */
      ready() { ready = ready ?? start(); return ready; },
      async next() {
        await iterator.ready();
        if (queue.length > 0) return { value: queue.shift(), done: false };
        return new Promise((resolve) => waiting.push(resolve));
      },
      async return() {
        await iterator.ready();
        await subscriber.unsubscribe();
        await subscriber.quit();
        for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() { return iterator; },
    };
    return iterator;
  }
}

/** A connected FeedClient. */
export async function connect(config) {
  return new FeedClient(config).connect();
}
