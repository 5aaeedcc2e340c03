// Types of feedclient (index.js). Post ids are decimal strings.

export type PostID = string;

export interface Entry {
  id: PostID;
  /** The entry's author: for a repost, the reposter. */
  author: string;
  /** Milliseconds; with metadata, a repost's original's time. */
  createdMs: number;
  /** Null when memory lost it and there is no store to ask. */
  body: string | null;
  likes?: number;
  replies?: number;
  reposts?: number;
  replyTo?: PostID | null;
  repostOf?: PostID | null;
  originalAuthor?: string | null;
  /** A ranked read's score and its factors. */
  score?: number;
  recency?: number;
  affinity?: number;
  engagement?: number;
  diversity?: number;
}

export interface RankedPage {
  entries: Entry[];
  /** The PAGE token of the next page; null on the last. */
  next: string | null;
}

export interface Stats {
  followers: number;
  following: number;
  posts: number;
  timeline: number;
  celebrity: boolean;
  /** Notification groups not yet seen, and not yet read. */
  unseen: number;
  unread: number;
}

/** A notification group: verb on object (a post id; null for follows) by the newest five actors of actorCount. */
export interface NotificationGroup {
  id: string;
  verb: 'like' | 'repost' | 'reply' | 'follow' | 'mention';
  object: PostID | null;
  actors: string[];
  actorCount: number;
  updatedMs: number;
  seen: boolean;
  read: boolean;
}

export interface FeedEvent {
  event: 'post' | 'delete';
  id: PostID;
  author: string | null;
  ts: number | null;
  body: string | null;
}

export interface Subscription extends AsyncIterableIterator<FeedEvent> {
  /** Resolves once the subscription is in place. */
  ready(): Promise<void>;
  return(): Promise<IteratorResult<FeedEvent, undefined>>;
}

export interface ClientConfig {
  host?: string;
  port?: number;
  password?: string;
  /** A cluster's nodes (some are enough): commands go to the node that serves their user. */
  nodes?: Array<{ host?: string; port?: number }>;
  [option: string]: unknown;
}

export interface Page {
  count?: number;
  before?: PostID;
}

export class FeedServerError extends Error {
  /** The Redis error code: ERR, TRYAGAIN, OOM, NOAUTH, WRONGPASS, TIMEOUT. */
  readonly code: string;
}
export class Err extends FeedServerError {}
export class TryAgain extends FeedServerError {}
export class Oom extends FeedServerError {}
export class NoAuth extends FeedServerError {}
export class WrongPass extends FeedServerError {}
export class Timeout extends FeedServerError {}

export class FeedClient {
  constructor(config?: ClientConfig);
  connect(): Promise<this>;
  quit(): Promise<void>;
  post(author: string, body: string, options?: { replyTo?: PostID }): Promise<PostID>;
  repost(user: string, postId: PostID): Promise<PostID>;
  unrepost(user: string, postId: PostID): Promise<boolean>;
  delete(author: string, postId: PostID): Promise<boolean>;
  follow(follower: string, followee: string, options?: { noReposts?: boolean }): Promise<boolean>;
  unfollow(follower: string, followee: string): Promise<boolean>;
  read(user: string, options?: Page & { after?: PostID; meta?: boolean }): Promise<Entry[]>;
  readRanked(user: string, options?: { count?: number; page?: string }): Promise<RankedPage>;
  posts(author: string, options?: Page & { meta?: boolean }): Promise<Entry[]>;
  get(ids: PostID[], options?: { meta?: boolean }): Promise<Array<Entry | null>>;
  replies(postId: PostID, options?: Page): Promise<Entry[]>;
  like(user: string, postId: PostID): Promise<number>;
  unlike(user: string, postId: PostID): Promise<number>;
  stats(user: string): Promise<Stats>;
  notifications(user: string, options?: { count?: number; before?: string }): Promise<NotificationGroup[]>;
  markSeen(user: string): Promise<number>;
  markRead(user: string, groupIds: string[]): Promise<number>;
  followers(user: string, options?: { count?: number; after?: string }): Promise<string[]>;
  following(user: string, options?: { count?: number; after?: string }): Promise<string[]>;
  mutes(user: string, options?: { count?: number; after?: string }): Promise<string[]>;
  blocks(user: string, options?: { count?: number; after?: string }): Promise<string[]>;
  mute(user: string, target: string): Promise<boolean>;
  unmute(user: string, target: string): Promise<boolean>;
  block(user: string, target: string): Promise<boolean>;
  unblock(user: string, target: string): Promise<boolean>;
  token(user: string, ttlSeconds?: number): Promise<string>;
  /** Every acknowledged write is in PostgreSQL; with several nodes, also applied on every node. */
  sync(timeoutMs?: number): Promise<void>;
  subscribe(user: string): Subscription;
}

export function connect(config?: ClientConfig): Promise<FeedClient>;
