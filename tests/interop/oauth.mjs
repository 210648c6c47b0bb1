// The official TypeScript SDK client logging in to k8s-mcp with OAuth, starting from the /mcp URL only.
// Usage: node oauth.mjs <url> <user> <password> <namespace>
// Trust for the OpenID provider's HTTPS comes from NODE_EXTRA_CA_CERTS (the rig's CA). Prints one JSON
// object; tests/integration/test_oauth_clients.py asserts on it.
//
// The SDK does the client's part: 401 -> protected-resource metadata -> authorization-server metadata
// -> dynamic registration -> authorization URL with PKCE and the resource indicator -> (here the person
// logs in) -> finishAuth exchanges the code -> tokens. The person's part is played by `signIn`: plain
// HTTP requests that follow the provider's redirects, fill its login form and press Allow.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [url, user, password, namespace] = process.argv.slice(2);
const REDIRECT = "http://127.0.0.1:1/callback"; // read, never contacted

async function signIn(authorizationUrl) {
  const cookies = new Map();
  const send = async (target, init = {}) => {
    const headers = { ...(init.headers ?? {}), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return response;
  };
  let response = await send(authorizationUrl);
  for (let step = 0; step < 20; step += 1) {
    if ([301, 302, 303, 307, 308].includes(response.status)) {
      const next = new URL(response.headers.get("location"), response.url || authorizationUrl).href;
      if (next.startsWith(REDIRECT)) return new URL(next);
      response = await send(next);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`provider answered ${response.status}: ${html.slice(0, 300)}`);
    const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => m[1]);
    const login = actions.find((a) => a.endsWith("/login"));
    const confirm = actions.find((a) => a.endsWith("/confirm"));
    const base = response.url || authorizationUrl;
    const form = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } };
    if (login) {
      response = await send(new URL(login, base).href, { ...form, body: new URLSearchParams({ login: user, password }) });
      if (response.status === 401) throw new Error(`login refused for ${user}`);
    } else if (confirm) {
      response = await send(new URL(confirm, base).href, { ...form, body: "" });
    } else {
      throw new Error(`no login or consent form on the page: ${html.slice(0, 300)}`);
    }
  }
  throw new Error("too many redirects at the provider");
}

// Everything the SDK wants to remember, in memory.
const store = { landed: null, steps: [] };
const authProvider = {
  get redirectUrl() {
    return REDIRECT;
  },
  get clientMetadata() {
    return {
      client_name: "interop-ts",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => store.client,
  saveClientInformation: (info) => {
    store.client = info;
    store.steps.push("registered");
  },
  tokens: () => store.tokens,
  saveTokens: (tokens) => {
    store.tokens = tokens;
    store.steps.push("tokens");
  },
  redirectToAuthorization: async (authorizationUrl) => {
    store.steps.push("authorize");
    store.authorizationParams = Object.fromEntries(authorizationUrl.searchParams);
    store.landed = await signIn(authorizationUrl.href);
  },
  saveCodeVerifier: (verifier) => {
    store.verifier = verifier;
  },
  codeVerifier: () => store.verifier,
};

const report = { steps: store.steps };
let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
let client = new Client({ name: "interop-ts-oauth", version: "1.0.0" });
try {
  await client.connect(transport);
  report.firstConnect = "connected without logging in";
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
  report.firstConnect = "unauthorized";
  const code = store.landed?.searchParams.get("code");
  if (!code) throw new Error(`no authorization code: ${store.landed}`);
  await transport.finishAuth(code);
  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
  client = new Client({ name: "interop-ts-oauth", version: "1.0.0" });
  await client.connect(transport);
}
report.authorizationParams = {
  resource: store.authorizationParams?.resource ?? null,
  codeChallengeMethod: store.authorizationParams?.code_challenge_method ?? null,
  scope: store.authorizationParams?.scope ?? null,
};
report.tokenType = store.tokens?.token_type ?? null;
report.refreshToken = Boolean(store.tokens?.refresh_token);
report.accessToken = store.tokens?.access_token ?? null; // for the test to check it never reaches the logs
report.tools = (await client.listTools()).tools.map((t) => t.name);
const listed = await client.callTool({ name: "pods_list_in_namespace", arguments: { namespace } });
report.call = { isError: listed.isError ?? false, text: listed.content[0].text };
await transport.terminateSession();
await client.close();
console.log(JSON.stringify(report));
