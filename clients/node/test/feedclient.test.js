// node --test against a running feed-server on FEED_PORT (the e2e suite
// starts one: tests/e2e/test_node_client.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, Err, FeedServerError } from '../index.js';

const port = Number(process.env.FEED_PORT ?? 6380);

test('a session through every kind of command', async () => {
  const feed = await connect({ port });
  assert.equal(await feed.follow('bob', 'alice'), true);
  assert.equal(await feed.follow('bob', 'alice'), false);
  assert.equal(await feed.follow('bob', 'carol', { noReposts: true }), true);
  const first = await feed.post('alice', 'hello');
  const reply = await feed.post('carol', 'hi alice', { replyTo: first });
  const repost = await feed.repost('dave', first);
  assert.equal(typeof first, 'string');
  assert.ok(BigInt(reply) > BigInt(first));
  assert.deepEqual((await feed.read('bob')).map((e) => e.id), [reply, first]);
  const [plain] = await feed.read('bob', { count: 1, before: reply });
  assert.deepEqual([plain.author, plain.body], ['alice', 'hello']);
  assert.equal(await feed.like('bob', first), 1);
  assert.equal(await feed.unlike('bob', first), 0);
  assert.equal(await feed.like('bob', first), 1);
  const [meta, missing] = await feed.get([first, '999'], { meta: true });
  assert.equal(missing, null);
  assert.deepEqual([meta.likes, meta.replies, meta.reposts], [1, 1, 1]);
  assert.deepEqual((await feed.replies(first)).map((e) => e.id), [reply]);
  const [shared] = await feed.posts('dave', { meta: true });
  assert.deepEqual([shared.id, shared.repostOf, shared.originalAuthor, shared.author], [repost, first, 'alice', 'dave']);
  const page = await feed.readRanked('bob', { count: 1 });
  assert.equal(page.entries.length, 1);
  assert.equal(typeof page.entries[0].score, 'number');
  const rest = page.next ? await feed.readRanked('bob', { count: 5, page: page.next }) : { entries: [] };
  assert.deepEqual(new Set([...page.entries, ...rest.entries].map((e) => e.id)), new Set([reply, first]));
  const stats = await feed.stats('alice');
  assert.deepEqual([stats.followers, stats.following, stats.posts, stats.celebrity], [1, 0, 1, false]);
  // alice's notifications: bob's like, dave's repost, carol's reply, bob's follow.
  assert.deepEqual([stats.unseen, stats.unread], [4, 4]);
  const groups = await feed.notifications('alice');
  assert.deepEqual(groups.map((g) => g.verb), ['like', 'repost', 'reply', 'follow']);
  assert.deepEqual([groups[0].object, groups[0].actors, groups[3].object, groups[3].seen], [first, ['bob'], null, false]);
  assert.deepEqual((await feed.notifications('alice', { count: 1, before: groups[2].id })).map((g) => g.id), [groups[3].id]);
  assert.equal(await feed.markSeen('alice'), 4);
  assert.equal(await feed.markRead('alice', [groups[0].id]), 1);
  const after = await feed.stats('alice');
  assert.deepEqual([after.unseen, after.unread], [0, 3]);
  assert.deepEqual(await feed.followers('alice'), ['bob']);
  assert.deepEqual(await feed.following('bob'), ['alice', 'carol']);
  assert.equal(await feed.mute('bob', 'carol'), true);
  assert.deepEqual(await feed.mutes('bob'), ['carol']);
  assert.equal(await feed.unmute('bob', 'carol'), true);
  assert.equal(await feed.block('alice', 'eve'), true);
  assert.deepEqual(await feed.blocks('alice'), ['eve']);
  assert.equal(await feed.unblock('alice', 'eve'), true);
  assert.equal(await feed.unrepost('dave', first), true);
  assert.equal(await feed.delete('alice', first), true);
  assert.deepEqual((await feed.read('bob')).map((e) => e.id), [reply]);
  assert.ok((await feed.token('bob', 60)).length > 20);
  await feed.sync();
  await feed.quit();
});

test('errors are named after their code', async () => {
  const feed = await connect({ port });
  await assert.rejects(feed.like('bob', '12345'),
    (error) => error instanceof Err && error.name === 'Err' && error.code === 'ERR' && error.message === 'no such post');
  await assert.rejects(feed.read('bob', { count: 0 }), (error) => error instanceof FeedServerError && /COUNT must be between 1 and 500/.test(error.message));
  await assert.rejects(feed.readRanked('bob', { page: 'nope' }), (error) => error instanceof Err && error.message === 'invalid page token');
  await feed.quit();
});

test('subscribe yields the feed\'s events', async () => {
  const feed = await connect({ port });
  await feed.follow('sub-reader', 'sub-author');
  const events = feed.subscribe('sub-reader');
  await events.ready();
  const id = await feed.post('sub-author', 'live');
  const { value } = await events.next();
  assert.deepEqual(value, { event: 'post', id, author: 'sub-author', ts: value.ts, body: 'live' });
  await feed.delete('sub-author', id);
  const deleted = await events.next();
  assert.deepEqual(deleted.value, { event: 'delete', id, author: null, ts: null, body: null });
  await events.return();
  await feed.quit();
});
