// Compiled with `tsc --noEmit -p .` (strict): the declarations are usable
// as a TypeScript user would use them.
import { connect, Entry, Err, FeedEvent, NotificationGroup, RankedPage, Stats } from './index.js';

declare const console: { log(...values: unknown[]): void };  // no @types/node here

async function session(): Promise<void> {
  const feed = await connect({ port: 6380 });
  await feed.follow('bob', 'alice', { noReposts: false });
  const id: string = await feed.post('alice', 'hello', {});
  const entries: Entry[] = await feed.read('bob', { count: 10, before: id, meta: true });
  const page: RankedPage = await feed.readRanked('bob', { count: 5 });
  const score: number | undefined = page.entries[0]?.score;
  const stats: Stats = await feed.stats('alice');
  const likes: number = await feed.like('bob', id);
  const found: Array<Entry | null> = await feed.get([id]);
  const groups: NotificationGroup[] = await feed.notifications('alice', { count: 5 });
  const marked: number = (await feed.markSeen('alice')) + (await feed.markRead('alice', groups.map((g) => g.id)));
  const subscription = feed.subscribe('bob');
  await subscription.ready();
  for await (const event of subscription) {
    const typed: FeedEvent = event;
    if (typed.event === 'delete') break;
  }
  try {
    await feed.like('bob', '12345');
  } catch (error) {
    if (error instanceof Err) console.log(error.code, error.message);
  }
  console.log(entries.length, score, stats.celebrity, stats.unseen, likes, found.length, marked);
  await feed.quit();
}

void session();
