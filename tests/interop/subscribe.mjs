// Live subscriptions through the official TypeScript SDK client (a 2025-era session over streamable HTTP).
// Usage: node subscribe.mjs <url> <object uri> <bad uri> <denied uri>
// Prints one JSON object per line: {"event":"ready",...} once subscribed (with the two refusals), then
// {"event":"updated","uri":...} for every notifications/resources/updated. Reads commands from stdin, one per
// line: "unsubscribe", "subscribe", "close". tests/integration/test_interop_ts_subscriptions.py drives it.
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, uri, badUri, deniedUri] = process.argv.slice(2);
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const client = new Client({ name: "interop-ts-subscribe", version: "1.0.0" });
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
  say({ event: "updated", uri: notification.params.uri });
});
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);

async function refusal(target) {
  try {
    await client.subscribeResource({ uri: target });
    return { code: null, message: "accepted" };
  } catch (error) {
    return { code: error.code ?? null, message: error.message };
  }
}

await client.subscribeResource({ uri });
say({
  event: "ready",
  protocolVersion: transport.protocolVersion ?? null,
  subscribe: client.getServerCapabilities()?.resources?.subscribe ?? null,
  bad: await refusal(badUri),
  denied: await refusal(deniedUri),
});

for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === "unsubscribe") {
    await client.unsubscribeResource({ uri });
    say({ event: "unsubscribed" });
  } else if (command === "subscribe") {
    await client.subscribeResource({ uri });
    say({ event: "subscribed" });
  } else if (command === "close") {
    await transport.terminateSession();
    await client.close();
    say({ event: "closed" });
    break;
  }
}
process.exit(0); // stdin stays open (the test holds it); do not wait for it
