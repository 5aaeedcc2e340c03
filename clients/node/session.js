// The README's feedclient session for Node (the same lines, runnable).
import { connect, Err } from './index.js';

const feed = await connect({ port: Number(process.env.FEED_PORT ?? 6380) });
await feed.follow('bob', 'alice');
const id = await feed.post('alice', 'hello from node');           // '386…' (a string: exact)
for (const entry of await feed.read('bob', { count: 10 })) console.log(entry.id, entry.author, entry.body);
const page = await feed.readRanked('bob', { count: 10 });        // page.entries best first, page.next
console.log('ranked:', page.entries.map((e) => [e.id, e.score]), 'next:', page.next);
try { await feed.like('bob', '12345'); } catch (error) { if (error instanceof Err) console.log('Err:', error.message); }
console.log('liked:', await feed.like('bob', id));
await feed.quit();
