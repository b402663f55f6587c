// Runs in the node env with @turnkey/api-key-stamper and @turnkey/crypto installed.
// stdin: {"stamp": [{public, private, body, runtime}], "verify": [{public, signature, body}],
//         "fingerprint": [body], "client": [{public, private, method, input}]}
// stdout: {"stamps": [header], "verified": [true|false|"error: ..."], "fingerprints": [str],
//          "signed": [{body, stamp}]}  (client: TurnkeyClient's stamp<Method>, nothing is sent)
// argv[2]: the folder where npm installed them.
const path = require("path");
const requireThere = require("module").createRequire(path.join(process.argv[2], "package.json"));
const { ApiKeyStamper } = requireThere("@turnkey/api-key-stamper");
const { verifyStampSignature, computeActivityFingerprint } = requireThere("@turnkey/crypto");
const { TurnkeyClient } = requireThere("@turnkey/http");

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const stamps = [];
  for (const c of input.stamp || []) {
    const stamper = new ApiKeyStamper({
      apiPublicKey: c.public,
      apiPrivateKey: c.private,
      runtimeOverride: c.runtime,
    });
    stamps.push((await stamper.stamp(c.body)).stampHeaderValue);
  }
  const verified = [];
  for (const c of input.verify || []) {
    try {
      verified.push(await verifyStampSignature(c.public, c.signature, c.body));
    } catch (e) {
      verified.push("error: " + e.message);
    }
  }
  const fingerprints = (input.fingerprint || []).map((b) => computeActivityFingerprint(b));
  const signed = [];
  for (const c of input.client || []) {
    const stamper = new ApiKeyStamper({ apiPublicKey: c.public, apiPrivateKey: c.private });
    const client = new TurnkeyClient({ baseUrl: "https://api.turnkey.invalid" }, stamper);
    const request = await client[c.method](c.input);
    signed.push({ body: request.body, stamp: request.stamp.stampHeaderValue });
  }
  process.stdout.write(JSON.stringify({ stamps, verified, fingerprints, signed }));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
