import { createInterface } from 'node:readline';
import { startImpairmentRelay } from './emulated-link.ts';
import { seededRandom } from './link-schedule.ts';
import { relayCommandSchema, relaySettingsSchema, type RelayReply } from './impairment-relay-protocol.ts';

/**
 * The impairment relay as a process of its own, for the link lab: started inside the lab's
 * client network namespace (`ip netns exec <ns> node stack/impairment-relay-main.ts '<settings>'`),
 * it listens there on 127.0.0.1 at the system's ports and carries everything over the veth pair
 * to the servers, shaped. Commands arrive as JSON lines on stdin (stack/impairment-relay-protocol.ts);
 * stdin closing stops it.
 */

const answer = (reply: RelayReply) => process.stdout.write(`${JSON.stringify(reply)}\n`);

const settings = relaySettingsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const relay = await startImpairmentRelay({
  listenHost: settings.listenHost,
  forwards: settings.forwards,
  profile: settings.profile,
  ...(settings.seed === undefined ? {} : { random: seededRandom(settings.seed) }),
});
answer({ reply: 'ready' });

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    answer({ reply: 'error', message: 'not JSON' });
    return;
  }
  const command = relayCommandSchema.safeParse(parsed);
  if (!command.success) {
    answer({ reply: 'error', message: command.error.message });
    return;
  }
  const { id } = command.data;
  switch (command.data.command) {
    case 'reshape':
      relay.reshape(command.data.profile);
      answer({ reply: 'done', id });
      break;
    case 'link':
      relay.setLinkDown(command.data.down);
      answer({ reply: 'done', id });
      break;
    case 'stats':
      answer({ reply: 'done', id, stats: relay.stats() });
      break;
  }
});
lines.on('close', () => {
  void relay.close().then(() => process.exit(0));
});
