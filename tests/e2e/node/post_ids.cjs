// A session through node-redis 4 (Debian's node-redis, run with NODE_PATH=/usr/share/nodejs):
// post, read the entries back, page with BEFORE the last id, delete by id, and
// pass the ids through JSON as a browser would. Prints what it saw as JSON for
// the Python side to compare with redis-py's view of the same posts.
const { createClient } = require('redis');

async function main() {
  const port = Number(process.argv[2]);
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  await client.connect();
  await client.sendCommand(['FEED.FOLLOW', 'node:bob', 'node:alice']);
  const posted = [];
  for (let index = 0; index < 30; index++) {
    posted.push(await client.sendCommand(['FEED.POST', 'node:alice', `from node ${index}`]));
  }
  const first = await client.sendCommand(['FEED.READ', 'node:bob', 'COUNT', '10']);
  const before = first[first.length - 1][0];
  const next = await client.sendCommand(['FEED.READ', 'node:bob', 'COUNT', '10', 'BEFORE', before]);
  const victim = posted[25];
  const deleted = await client.sendCommand(['FEED.DELETE', 'node:alice', victim]);
  const got = await client.sendCommand(['FEED.GET', posted[24], victim]);
  const liked = await client.sendCommand(['FEED.LIKE', 'node:bob', posted[0]]);
  // What a page does with a JSON payload carrying these ids.
  const parsed = JSON.parse(JSON.stringify({ ids: posted })).ids;
  console.log(JSON.stringify({
    posted,
    types: posted.map((id) => typeof id),
    first: first.map((entry) => entry[0]),
    created: first.map((entry) => entry[2]),
    next: next.map((entry) => entry[0]),
    deleted,
    got: got.map((entry) => entry && entry[0]),
    liked,
    parsed,
  }));
  await client.quit();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
