// Drives the legacy Privy Node SDK (@privy-io/server-auth) for authsig's interop tests.
//
// Usage: node privy_server_auth.cjs ENV_DIR  < request.json  > response.json
//
// ENV_DIR is the folder where `npm install @privy-io/server-auth` ran (tests/_envs.py node_env).
// The request is {"cases": [CASE, ...]}; the response is {"sdk_version": ..., "results": [...]}
// with one result per case, in order. Only the SDK's public signing functions are used (from
// `@privy-io/server-auth/wallet-api`), as an application would.
//
// CASE ops:
//   {"op": "format", "method", "url", "headers": {...}, "body_json": TEXT | null}
//       -> {"payload_b64"}: formatRequestForAuthorizationSignature({input}) where input.body is
//          JSON.parse(body_json), or undefined when body_json is null (a call without a body).
//   {"op": "sign", "private_key": TEXT, ... same request fields}
//       -> {"signature", "payload_b64"}: generateAuthorizationSignature({input,
//          authorizationPrivateKey}); the key may carry the dashboard's wallet-auth: prefix.
//   {"op": "verify", "public_key_raw_b64", "signature", "payload_b64"}
//       -> {"noble": bool}: the SDK ships no verifier; this checks a signature with the curve
//          library the SDK signs with (@noble/curves p256, lowS: false, DER) over sha256(payload).
// A case that throws yields {"error": message}.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { createRequire } = require('node:module');

const envDir = process.argv[2];
if (!envDir) {
  process.stderr.write('usage: node privy_server_auth.cjs ENV_DIR\n');
  process.exit(2);
}
const envRequire = createRequire(path.join(path.resolve(envDir), 'package.json'));
const walletApi = envRequire('@privy-io/server-auth/wallet-api');
const sdkDir = path.join(path.resolve(envDir), 'node_modules', '@privy-io', 'server-auth');
const sdkVersion = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'))).version;
const sdkRequire = createRequire(path.join(sdkDir, 'package.json'));
const { p256 } = sdkRequire('@noble/curves/p256');
const { sha256 } = sdkRequire('@noble/hashes/sha256');

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const unb64 = (text) => new Uint8Array(Buffer.from(text, 'base64'));

function input(c) {
  const body = c.body_json === null || c.body_json === undefined ? undefined : JSON.parse(c.body_json);
  return { version: 1, method: c.method, url: c.url, body, headers: c.headers };
}

function run(c) {
  switch (c.op) {
    case 'format':
      return { payload_b64: b64(walletApi.formatRequestForAuthorizationSignature({ input: input(c) })) };
    case 'sign': {
      const signature = walletApi.generateAuthorizationSignature({
        input: input(c),
        authorizationPrivateKey: c.private_key,
      });
      const payload = walletApi.formatRequestForAuthorizationSignature({ input: input(c) });
      return { signature, payload_b64: b64(payload) };
    }
    case 'verify': {
      let ok;
      try {
        ok = p256.verify(
          new Uint8Array(Buffer.from(c.signature, 'base64')),
          sha256(unb64(c.payload_b64)),
          unb64(c.public_key_raw_b64),
          { lowS: false, format: 'der' },
        );
      } catch (e) {
        ok = false;
      }
      return { noble: ok };
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  data += chunk;
});
process.stdin.on('end', () => {
  const request = JSON.parse(data);
  const results = request.cases.map((c) => {
    try {
      return run(c);
    } catch (e) {
      return { error: String((e && e.message) || e) };
    }
  });
  process.stdout.write(JSON.stringify({ sdk_version: sdkVersion, results }));
});
