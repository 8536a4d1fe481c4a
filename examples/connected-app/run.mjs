#!/usr/bin/env node
// Runs the example connected application after `npm run build:node`:
//   SEALPOST_URL=http://127.0.0.1:8787 CONNECTED_APP_ID=ca_... CONNECTED_APP_SECRET=cas_... \
//   CONNECTED_APP_PRIVATE_KEY=app-private.pem PORT=3000 node examples/connected-app/run.mjs
import { readFileSync } from 'node:fs';
import { startExampleApp } from '../../dist/examples/connected-app/server.js';

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is required (see docs/connected-apps.md)`);
    process.exit(2);
  }
  return v;
};

const app = await startExampleApp({
  keyService: need('SEALPOST_URL'),
  appId: need('CONNECTED_APP_ID'),
  secret: need('CONNECTED_APP_SECRET'),
  privateKeyPem: readFileSync(need('CONNECTED_APP_PRIVATE_KEY'), 'utf8'),
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
});
console.log(`Acme Notes listening on ${app.url}`);
