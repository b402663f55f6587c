// Runs the npm package http-message-signatures (installed in the folder given as argv[2]):
// reads {"cases": [...]} as JSON on stdin, writes {"package_version", "results"} on stdout.
// Signing and verifying use the package's own signMessage/verifyMessage and its Node crypto
// signers (ecdsa-p256-sha256 as IEEE P1363 r||s, ed25519).
'use strict';
const path = require('path');
const crypto = require('crypto');

const folder = process.argv[2];
const lib = require(path.join(folder, 'node_modules', 'http-message-signatures'));
const { version } = require(path.join(folder, 'node_modules', 'http-message-signatures', 'package.json'));

function headersOf(pairs) {
  const out = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    out[key] = key in out ? [].concat(out[key], value) : value;
  }
  return out;
}

async function sign(c) {
  const key = lib.createSigner(crypto.createPrivateKey(c.private_pem), c.alg, c.keyid);
  const request = { method: c.method, url: c.url, headers: headersOf(c.headers) };
  const signed = await lib.httpbis.signMessage({
    key,
    name: c.label,
    fields: c.components,
    params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
    paramValues: {
      created: new Date(c.created * 1000),
      expires: new Date(c.expires * 1000),
      nonce: c.nonce,
    },
  }, request);
  return { headers: Object.entries(signed.headers) };
}

async function verify(c) {
  const request = { method: c.method, url: c.url, headers: headersOf(c.headers) };
  const publicKey = crypto.createPublicKey(c.public_pem);
  try {
    const ok = await lib.httpbis.verifyMessage({
      async keyLookup(params) {
        if (params.keyid !== c.keyid) return null;
        return { id: c.keyid, algs: [c.alg], verify: lib.createVerifier(publicKey, c.alg) };
      },
    }, request);
    return { verified: ok === true };
  } catch (err) {
    return { verified: false, why: String(err && err.message) };
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const c of payload.cases) {
    try {
      results.push(c.op === 'sign' ? await sign(c) : await verify(c));
    } catch (err) {
      results.push({ error: `${err && err.name}: ${err && err.message}` });
    }
  }
  process.stdout.write(JSON.stringify({ package_version: version, results }));
}

main().catch((err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });
