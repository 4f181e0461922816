// Verify an SD-JWT VC presentation with @sd-jwt/sd-jwt-vc, independently of our code.
//
//   node verify.mjs ISSUER_PUBLIC_JWK.json STATUS_LIST.jwt < presentation
//
// Prints one JSON line: {"verified": true, "claims": {...}, "header": {...},
// "unused": [<disclosures the library ignored>]} or {"verified": false, "error": "..."}.
// The library (0.17.x) checks the issuer's signature and ignores a disclosure that no
// digest references; "unused" lists those (computed with the library's own decoder) so
// the caller can tell "rejected" from "silently ignored". The presentation's status
// (`status.status_list`) is read by the library from the IETF Token Status List JWT given
// as a file, as if fetched from its URI (no network): a status other than 0 fails.
import { readFileSync } from 'node:fs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';

const jwk = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const statusList = readFileSync(process.argv[3], 'utf8').trim();
const presentation = readFileSync(0, 'utf8').trim();

const sdjwt = new SDJwtVcInstance({
  verifier: await ES256.getVerifier(jwk),
  hasher: digest,
  hashAlg: 'sha-256',
  statusListFetcher: async () => statusList,
});

try {
  const { payload, header } = await sdjwt.verify(presentation);
  const decoded = await sdjwt.decode(presentation);
  const used = new Set();
  const collect = (value) => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '_sd' && Array.isArray(v)) v.forEach((d) => used.add(d));
        else if (k === '...') used.add(v);
        else collect(v);
      }
    }
  };
  collect(decoded.jwt.payload);
  for (const d of decoded.disclosures) collect(d.value);
  const unused = [];
  for (const d of decoded.disclosures) {
    const dg = await d.digest({ hasher: digest, alg: 'sha-256' });
    if (!used.has(dg)) unused.push(d.encode());
  }
  console.log(JSON.stringify({ verified: true, header, claims: payload, unused }));
} catch (err) {
  console.log(JSON.stringify({ verified: false, error: String(err?.message ?? err) }));
}
