// A second, independent MCP client: the official TypeScript SDK, driving k8s-mcp over streamable HTTP.
// Usage: node client.mjs <url> <namespace> <pod>   Prints one JSON object describing what it saw;
// the pytest in tests/integration/test_interop_ts.py asserts on it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, namespace, pod] = process.argv.slice(2);
const client = new Client({ name: "interop-ts", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);

const report = {
  protocolVersion: transport.protocolVersion ?? null,
  sessionId: transport.sessionId ?? null,
  server: client.getServerVersion(),
};
const tools = await client.listTools();
report.tools = tools.tools.map((t) => ({
  name: t.name,
  outputSchemaType: t.outputSchema?.type ?? null,
  readOnly: t.annotations?.readOnlyHint ?? null,
}));

// callTool validates structuredContent against each tool's outputSchema (the SDK does this itself).
const list = await client.callTool({ name: "pods_list_in_namespace", arguments: { namespace } });
report.podsList = { isError: list.isError ?? false, text: list.content[0].text, rows: list.structuredContent?.rows };
const got = await client.callTool({ name: "pods_get", arguments: { namespace, name: pod } });
report.podsGet = { isError: got.isError ?? false, text: got.content[0].text };
const bad = await client.callTool({ name: "resources_get", arguments: { apiVersion: "v1", kind: "Nonsense", name: "x" } });
report.bad = { isError: bad.isError ?? false, text: bad.content[0].text };

// Every call below must come back with structuredContent that the SDK accepts against its outputSchema.
const reads = [
  ["namespaces_list", {}],
  ["pods_list", {}],
  ["events_list", { namespace }],
  ["resources_list", { apiVersion: "v1", kind: "ConfigMap", namespace }],
  ["api_resources_list", {}],
  ["configuration_view", {}],
  ["configuration_contexts_list", {}],
  ["nodes_top", {}],
  ["pods_top", { namespace }],
  ["pods_log", { namespace, name: pod, tail: 5 }],
  ["resources_describe", { apiVersion: "v1", kind: "Pod", name: pod, namespace }],
  ["cluster_version", {}],
  ["resources_explain", { apiVersion: "v1", kind: "Pod", field: "spec.containers" }],
];
report.reads = {};
for (const [name, args] of reads) {
  try {
    const result = await client.callTool({ name, arguments: args });
    report.reads[name] = result.isError ? `isError: ${result.content[0].text}` : "ok";
  } catch (error) {
    report.reads[name] = `threw: ${error.message}`;
  }
}

const prompts = await client.listPrompts();
report.prompts = prompts.prompts.map((p) => p.name);
const plan = await client.getPrompt({ name: "troubleshoot_pod", arguments: { namespace, pod } });
report.plan = plan.messages.map((m) => m.content.text ?? "").join("\n");

const summary = await client.readResource({ uri: "k8s://summary" });
report.summary = summary.contents[0].text;

await transport.terminateSession();
await client.close();
console.log(JSON.stringify(report));
