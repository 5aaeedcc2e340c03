// Subscribes through node-redis 4 and prints each message as a JSON line,
// then "ready" once subscribed; exits after the given number of messages.
const { createClient } = require('redis');

async function main() {
  const [port, channel, wanted] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  await client.connect();
  const subscriber = client.duplicate();
  await subscriber.connect();
  let seen = 0;
  await subscriber.subscribe(channel, async (message, name) => {
    console.log(JSON.stringify({ channel: name, message }));
    seen += 1;
    if (seen === wanted) {
      await subscriber.unsubscribe(channel);
      await subscriber.quit();
      await client.quit();
    }
  });
  console.log('ready');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
