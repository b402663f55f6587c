// Drives the official Privy Node SDK (@privy-io/node) for authsig's interop tests.
//
// Usage: node privy_node.cjs ENV_DIR  < request.json  > response.json
//
// ENV_DIR is the folder where `npm install @privy-io/node` ran (tests/_envs.py node_env).
// The request is {"cases": [CASE, ...]}; the response is {"sdk_version": ..., "results": [...]}
// with one result per case, in order. All cases run in one process (one node start-up).
//
// CASE ops:
//   {"op": "format", "input": {version, method, url, headers}, "body_json": TEXT | null,
//    "body_absent": bool}
//       -> {"payload_b64"}: formatRequestForAuthorizationSignature(input) where input.body is
//          JSON.parse(body_json) (what a Node app holds after parsing the request), or null.
//   {"op": "sign", "private_key": B64_PKCS8, "payload_b64": ...}
//       -> {"signature"}: generateAuthorizationSignature({authorizationPrivateKey, input: bytes})
//   {"op": "sign_input", "private_key": ..., "input": ..., "body_json": ...}
//       -> {"signature", "payload_b64"}: the SDK formats and signs in one call.
//   {"op": "verify", "public_key": B64_SPKI, "signature": B64_DER, "payload_b64": ...}
//       -> {"node_crypto": bool, "noble": bool}: the SDK ships no verifier, so we verify with
//          node:crypto (OpenSSL, SPKI DER key, DER signature) and with @noble/curves p256.verify
//          (the library the SDK signs with; lowS: false, DER format) over sha256(payload).
//   {"op": "public_key", "private_key": ...}
//       -> {"public_key"}: base64 SPKI DER derived by node:crypto from the PKCS#8 key.
//   {"op": "canonicalize", "json": TEXT}
//       -> {"canonical_b64"}: the SDK's `canonicalize` dependency over JSON.parse(TEXT).
// A case that throws yields {"error": message}.
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const { createRequire } = require('node:module');

const envDir = process.argv[2];
if (!envDir) {
  process.stderr.write('usage: node privy_node.cjs ENV_DIR\n');
  process.exit(2);
}
const envRequire = createRequire(path.join(path.resolve(envDir), 'package.json'));
const sdk = envRequire('@privy-io/node');
const sdkDir = path.join(path.resolve(envDir), 'node_modules', '@privy-io', 'node');
const sdkVersion = JSON.parse(require('node:fs').readFileSync(path.join(sdkDir, 'package.json'))).version;
// Resolve the SDK's own dependencies from inside the SDK package.
const sdkRequire = createRequire(path.join(sdkDir, 'package.json'));
const { p256 } = sdkRequire('@noble/curves/nist');
const { sha256 } = sdkRequire('@noble/hashes/sha2');
const canonicalizeMod = sdkRequire('canonicalize');
const canonicalize = canonicalizeMod.default || canonicalizeMod;

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const unb64 = (text) => new Uint8Array(Buffer.from(text, 'base64'));

function buildInput(c) {
  const input = JSON.parse(JSON.stringify(c.input));
  input.body = c.body_json === null || c.body_json === undefined ? null : JSON.parse(c.body_json);
  return input;
}

function run(c) {
  switch (c.op) {
    case 'format':
      return { payload_b64: b64(sdk.formatRequestForAuthorizationSignature(buildInput(c))) };
    case 'sign':
      return {
        signature: sdk.generateAuthorizationSignature({
          authorizationPrivateKey: c.private_key,
          input: unb64(c.payload_b64),
        }),
      };
    case 'sign_input': {
      const input = buildInput(c);
      // generateAuthorizationSignature formats the input object itself.
      const payload = sdk.formatRequestForAuthorizationSignature(buildInput(c));
      const signature = sdk.generateAuthorizationSignature({
        authorizationPrivateKey: c.private_key,
        input,
      });
      return { signature, payload_b64: b64(payload) };
    }
    case 'verify': {
      const payload = unb64(c.payload_b64);
      const der = Buffer.from(c.signature, 'base64');
      const key = crypto.createPublicKey({
        key: Buffer.from(c.public_key, 'base64'),
        format: 'der',
        type: 'spki',
      });
      const nodeOk = crypto.verify('sha256', payload, key, der);
      const point = key.export({ format: 'jwk' });
      const raw = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(point.x, 'base64url'),
        Buffer.from(point.y, 'base64url'),
      ]);
      let nobleOk;
      try {
        nobleOk = p256.verify(new Uint8Array(der), sha256(payload), new Uint8Array(raw), {
          lowS: false,
          format: 'der',
        });
      } catch (e) {
        nobleOk = false;
      }
      return { node_crypto: nodeOk, noble: nobleOk };
    }
    case 'public_key': {
      const priv = crypto.createPrivateKey({
        key: Buffer.from(c.private_key, 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      const spki = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' });
      return { public_key: b64(spki) };
    }
    case 'canonicalize':
      return { canonical_b64: b64(new TextEncoder().encode(canonicalize(JSON.parse(c.json)))) };
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
