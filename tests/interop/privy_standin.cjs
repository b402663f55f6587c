// Drives the official Privy Node SDKs against authsig.testing's stand-in (a real server).
//
// Usage: node privy_standin.cjs ENV_DIR SDK  < request.json  > response.json
//
// ENV_DIR is the folder where `npm install` of the SDK ran (tests/_envs.py node_env); SDK is
// `node` (@privy-io/node) or `server-auth` (@privy-io/server-auth). The request is
// {"cases": [CASE, ...]}; the response is {"sdk_version": ..., "results": [...]}, one result per
// case, in order. Each result is {"status", "body"} as the SDK reports the server's answer.
//
// CASE ops:
//   {"op": "update_quorum", "url", "app_id", "quorum_id", "body": {...}, "private_keys": [...],
//    "request_expiry": int | null}
//     - node: new PrivyClient({appId, appSecret, apiUrl: url}).keyQuorums().update(id,
//       {...body, authorization_context: {authorization_private_keys}, request_expiry}), the
//       SDK's own signed update (request_expiry null: the client's default, now + 15 minutes).
//     - server-auth: its client has no key quorum method, so the request is signed with its
//       public generateAuthorizationSignature({input, authorizationPrivateKey}), once per key,
//       the signatures comma-joined, and sent with fetch. It never signs an expiry, so
//       request_expiry must be null.
//   {"op": "rpc", "url", "app_id", "wallet_id", "private_key"} (server-auth only)
//     -> walletApi.rpc({walletId, method: "personal_sign", params: {message}}) with
//        walletApi: {apiURL: url, authorizationPrivateKey}: the SDK signs with its one key.
// A case that throws something other than the SDK's API error yields {"error": message}.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const [envDir, which] = process.argv.slice(2);
if (!envDir || !['node', 'server-auth'].includes(which)) {
  process.stderr.write('usage: node privy_standin.cjs ENV_DIR node|server-auth\n');
  process.exit(2);
}
const pkg = which === 'node' ? '@privy-io/node' : '@privy-io/server-auth';
const envRequire = createRequire(path.join(path.resolve(envDir), 'package.json'));
const sdk = envRequire(pkg);
const sdkDir = path.join(path.resolve(envDir), 'node_modules', ...pkg.split('/'));
const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'))).version;

async function nodeUpdate(c) {
  const client = new sdk.PrivyClient({
    appId: c.app_id,
    appSecret: 'unused', // feeds Basic auth only, which the stand-in does not check
    apiUrl: c.url,
    maxRetries: 0,
  });
  const params = {
    ...c.body,
    authorization_context: { authorization_private_keys: c.private_keys },
  };
  if (c.request_expiry !== null && c.request_expiry !== undefined) {
    params.request_expiry = c.request_expiry;
  }
  try {
    return { status: 200, body: await client.keyQuorums().update(c.quorum_id, params) };
  } catch (e) {
    if (e instanceof sdk.APIError) return { status: e.status, body: e.error };
    throw e;
  }
}

async function serverAuthUpdate(c) {
  if (c.request_expiry !== null && c.request_expiry !== undefined) {
    throw new Error('server-auth never signs privy-request-expiry');
  }
  const walletApi = envRequire('@privy-io/server-auth/wallet-api');
  const url = `${c.url}/v1/key_quorums/${c.quorum_id}`;
  const input = { version: 1, method: 'PATCH', url, body: c.body, headers: { 'privy-app-id': c.app_id } };
  const signatures = c.private_keys.map((key) =>
    walletApi.generateAuthorizationSignature({ input, authorizationPrivateKey: key }),
  );
  const answer = await fetch(url, {
    method: 'PATCH',
    body: JSON.stringify(c.body),
    headers: {
      'content-type': 'application/json',
      'privy-app-id': c.app_id,
      'privy-authorization-signature': signatures.join(','),
    },
  });
  return { status: answer.status, body: await answer.json() };
}

async function serverAuthRpc(c) {
  const client = new sdk.PrivyClient(c.app_id, 'unused', {
    walletApi: { apiURL: c.url, authorizationPrivateKey: c.private_key },
  });
  try {
    const body = await client.walletApi.rpc({
      walletId: c.wallet_id,
      method: 'personal_sign',
      params: { message: 'hello from server-auth' },
    });
    return { status: 200, body };
  } catch (e) {
    if (e.status !== undefined) return { status: e.status, body: { code: e.type, error: e.message } };
    throw e;
  }
}

async function run(c) {
  if (c.op === 'update_quorum') return which === 'node' ? nodeUpdate(c) : serverAuthUpdate(c);
  if (c.op === 'rpc' && which === 'server-auth') return serverAuthRpc(c);
  throw new Error(`unknown op ${c.op} for ${which}`);
}

let raw = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  raw += chunk;
});
process.stdin.on('end', async () => {
  const results = [];
  for (const c of JSON.parse(raw).cases) {
    try {
      results.push(await run(c));
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  process.stdout.write(JSON.stringify({ sdk_version: sdkVersion, results }));
});
