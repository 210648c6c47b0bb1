// The official TypeScript SDK client on a call that outlasts its request timeout.
// Usage: node progress.mjs <url> <namespace> <pod> <sleepSeconds> <timeoutMs>
// Runs `sleep <sleepSeconds>` in the pod twice with a request timeout shorter than the command:
// once with resetTimeoutOnProgress (the server's progress notifications keep the call alive), once
// without (the SDK gives up at the timeout and cancels the call). Prints one JSON report; the pytest in
// tests/integration/test_long_calls.py asserts on it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, namespace, pod, seconds, timeoutMs] = process.argv.slice(2);
const client = new Client({ name: "interop-ts-progress", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);

const args = { name: pod, namespace, command: ["sh", "-c", `sleep ${seconds}; echo finished`], timeout: 120 };

async function call(resetTimeoutOnProgress) {
  const progress = [];
  const started = Date.now();
  try {
    const result = await client.callTool({ name: "pods_exec", arguments: args }, undefined, {
      timeout: Number(timeoutMs),
      resetTimeoutOnProgress,
      onprogress: (p) => progress.push({ progress: p.progress, total: p.total ?? null, message: p.message ?? null }),
    });
    return {
      outcome: result.isError ? "isError" : "ok",
      text: result.content[0].text,
      progress,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    return { outcome: "threw", code: error.code ?? null, text: error.message, progress, seconds: (Date.now() - started) / 1000 };
  }
}

const report = { protocolVersion: transport.protocolVersion ?? null };
report.reset = await call(true);
report.noReset = await call(false);
await transport.terminateSession();
await client.close();
console.log(JSON.stringify(report));
