// The test rig's OpenID provider: oidc-provider (panva, OpenID Certified) on loopback HTTPS.
//
//   node server.mjs serve DIR         run the provider described by DIR (rig/oidc.sh does this)
//   node server.mjs check DIR         exit 0 when its discovery document answers over HTTPS
//   node server.mjs keys add DIR      put a new signing key first in DIR/jwks.json (it signs from now on)
//   node server.mjs keys retire DIR   keep only the first (newest) signing key
//
// DIR holds everything the provider needs, written by rig/oidc.sh: port, tls.crt/tls.key (a server
// certificate for 127.0.0.1 and localhost, signed by the rig's own CA ca.crt), jwks.json (private
// signing keys, created here on first start), cookie.key. SIGHUP re-reads jwks.json, so a test can
// rotate keys on a running provider; grants and registered clients live in oidc-provider's in-memory
// store, which survives the reload.
//
// What it offers: dynamic client registration (open), authorization code + PKCE, refresh tokens,
// resource indicators (RFC 8707) with JWT access tokens whose audience is the requested resource, a
// `groups` claim in access and ID tokens, and plain HTML login and consent forms that a test drives
// with ordinary HTTP requests (no browser, no JavaScript).
import { randomBytes, generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";

// oidc-provider is imported by `serve` only: the other commands stay quick and quiet.
let Provider;

// The test users: name -> password and groups.
const USERS = {
  alice: { password: "alice-password", name: "Alice", groups: ["team-a"] },
  bob: { password: "bob-password", name: "Bob", groups: ["team-b"] },
  carol: { password: "carol-password", name: "Carol", groups: [] },
};
// Scopes a resource server (an MCP server) may be granted.
const RESOURCE_SCOPES = "mcp mcp:admin";
// Every JWT access token also names this audience, so a Kubernetes API server configured for it can
// accept the very token the MCP server received (passthrough); see rig/README.md.
const CLUSTER_AUDIENCE = process.env.K8S_MCP_OIDC_CLUSTER_AUDIENCE ?? "kubernetes";

const read = (dir, name) => readFileSync(join(dir, name), "utf8");
const issuerOf = (dir) => `https://127.0.0.1:${read(dir, "port").trim()}`;

function newSigningKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
}

function writeJwks(dir, keys) {
  const path = join(dir, "jwks.json");
  writeFileSync(`${path}.tmp`, JSON.stringify({ keys }), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

function loadJwks(dir) {
  if (!existsSync(join(dir, "jwks.json"))) writeJwks(dir, [newSigningKey()]);
  return JSON.parse(read(dir, "jwks.json"));
}

function cookieKey(dir) {
  const path = join(dir, "cookie.key");
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600 });
  return read(dir, "cookie.key").trim();
}

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginForm(uid, clientName, problem) {
  return page(
    "Sign in",
    `<p>Sign in to continue to ${escape(clientName)}.</p>${problem ? `<p class="error">${escape(problem)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>User <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`,
  );
}

function consentForm(uid, clientName, scopes) {
  return page(
    "Allow access",
    `<p>${escape(clientName)} asks for: ${escape(scopes.join(" ") || "(no new scopes)")}</p>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Deny</button></form>`,
  );
}

async function formBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function isHttpUrl(value) {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && !url.hash;
  } catch {
    return false;
  }
}

function buildProvider(dir) {
  const provider = new Provider(issuerOf(dir), {
    jwks: loadJwks(dir),
    cookies: { keys: [cookieKey(dir)] },
    // The resource scopes are listed too: clients register with the scopes they will ask for.
    scopes: ["openid", "offline_access", "profile", "groups", ...RESOURCE_SCOPES.split(" ")],
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], groups: ["groups"] },
    async findAccount(_ctx, id) {
      const user = USERS[id];
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: user.name, preferred_username: id, groups: user.groups };
        },
      };
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async defaultResource(_ctx, _client, oneOf) {
          return oneOf;
        },
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, resourceIndicator, client) {
          if (!isHttpUrl(resourceIndicator)) throw new Provider.errors.InvalidTarget();
          const ttl = client.rig_access_token_ttl;
          return {
            scope: RESOURCE_SCOPES,
            audience: resourceIndicator,
            accessTokenFormat: "jwt",
            accessTokenTTL: Number.isInteger(ttl) && ttl > 0 ? ttl : 600,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    // A test hook: a client may register with `rig_access_token_ttl` (seconds) to get short-lived tokens.
    extraClientMetadata: {
      properties: ["rig_access_token_ttl"],
      validator(_ctx, key, value) {
        if (key === "rig_access_token_ttl" && value !== undefined && !(Number.isInteger(value) && value > 0)) {
          throw new Provider.errors.InvalidClientMetadata("rig_access_token_ttl must be a positive integer");
        }
      },
    },
    async extraTokenClaims(_ctx, token) {
      const user = token.accountId ? USERS[token.accountId] : undefined;
      return user ? { groups: user.groups } : undefined;
    },
    formats: {
      customizers: {
        async jwt(_ctx, _token, jwt) {
          if (CLUSTER_AUDIENCE && jwt.payload.aud !== CLUSTER_AUDIENCE) {
            jwt.payload.aud = [jwt.payload.aud, CLUSTER_AUDIENCE].flat();
          }
        },
      },
    },
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed("refresh_token");
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
  });

  // The login and consent pages: plain HTML forms, posted back here.
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
    if (!match) return next();
    ctx.set("cache-control", "no-store");
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const [, uid, action] = match;
    if (details.uid !== uid) ctx.throw(400, "interaction mismatch");
    const client = await provider.Client.find(details.params.client_id);
    const clientName = client?.clientName ?? details.params.client_id;
    const finish = async (result) => {
      const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.redirect(to);
      ctx.status = 303;
    };

    if (ctx.method === "GET" && !action) {
      ctx.type = "html";
      if (details.prompt.name === "login") {
        ctx.body = loginForm(uid, clientName);
      } else {
        const scopes = [
          ...(details.prompt.details.missingOIDCScope ?? []),
          ...Object.values(details.prompt.details.missingResourceScopes ?? {}).flat(),
        ];
        ctx.body = consentForm(uid, clientName, scopes);
      }
      return undefined;
    }
    if (ctx.method !== "POST" || !action) ctx.throw(405);
    if (action === "abort") {
      return finish({ error: "access_denied", error_description: "the user denied access" });
    }
    if (action === "login") {
      const form = await formBody(ctx.req);
      const login = form.get("login") ?? "";
      const user = Object.hasOwn(USERS, login) ? USERS[login] : undefined;
      if (!user || form.get("password") !== user.password) {
        ctx.status = 401;
        ctx.type = "html";
        ctx.body = loginForm(uid, clientName, "wrong user name or password");
        return undefined;
      }
      return finish({ login: { accountId: login } });
    }
    // confirm: grant what the prompt says is missing.
    const { prompt, params, session } = details;
    if (prompt.name !== "consent" || !session) ctx.throw(400, "nothing to confirm");
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const grantId = await grant.save();
    return finish({ consent: details.grantId ? {} : { grantId } });
  });
  return provider;
}

async function serve(dir) {
  ({ default: Provider } = await import("oidc-provider"));
  let handler = buildProvider(dir).callback();
  const server = https.createServer(
    { cert: read(dir, "tls.crt"), key: read(dir, "tls.key") },
    (req, res) => handler(req, res),
  );
  process.on("SIGHUP", () => {
    try {
      handler = buildProvider(dir).callback();
      console.log(`reloaded signing keys: ${loadJwks(dir).keys.map((k) => k.kid).join(", ")}`);
    } catch (error) {
      console.error(`reload failed, keeping the previous keys: ${error.message}`);
    }
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  server.listen(Number(read(dir, "port").trim()), "127.0.0.1", () => {
    console.log(`oidc-provider listening: issuer ${issuerOf(dir)}`);
  });
}

function getJson(url, ca) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, timeout: 2000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on("error", () => resolve(null));
    req.on("timeout", () => req.destroy());
  });
}

// Ready means: discovery answers over HTTPS (trusting only the rig's CA) and the published keys are
// exactly those in jwks.json (so a rotation has been taken in).
async function check(dir) {
  if (!existsSync(join(dir, "jwks.json"))) process.exit(1);
  const ca = read(dir, "ca.crt");
  const discovery = await getJson(`${issuerOf(dir)}/.well-known/openid-configuration`, ca);
  const published = discovery && (await getJson(discovery.jwks_uri, ca));
  const kids = (set) => (set?.keys ?? []).map((k) => k.kid).join(",");
  process.exit(published && kids(published) === kids(loadJwks(dir)) ? 0 : 1);
}

const [command, ...rest] = process.argv.slice(2);
if (command === "serve") await serve(rest[0]);
else if (command === "check") await check(rest[0]);
else if (command === "keys" && rest[0] === "add") writeJwks(rest[1], [newSigningKey(), ...loadJwks(rest[1]).keys]);
else if (command === "keys" && rest[0] === "retire") writeJwks(rest[1], loadJwks(rest[1]).keys.slice(0, 1));
else {
  console.error("usage: node server.mjs serve|check DIR | keys add|retire DIR");
  process.exit(2);
}
