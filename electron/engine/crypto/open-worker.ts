/**
 * worker_threads entry for {@link OpenPool}: imports the private key once (from DER
 * in workerData, then wipes that copy) and opens batches of envelopes.
 * Runs from the tsc build (dist/electron/engine/crypto/open-worker.js).
 *
 * Protocol: parent -> { id, envelopes: Uint8Array[] }; worker -> { id, results }.
 * At start the worker posts { ready: true } or { ready: false, message }.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openBatch } from './_open-batch.js';
import { type OpenKey, prepareOpenKey } from './_recipients.js';

export interface OpenWorkerData {
  privateKeyDer: Uint8Array;
  maxBodyBytes?: number;
}

const port = parentPort;
if (!port) throw new Error('open-worker.js must run in a worker thread');
const data = workerData as OpenWorkerData;
let key: OpenKey | undefined;
try {
  key = prepareOpenKey(data.privateKeyDer);
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, message: e instanceof Error ? e.message : String(e) });
} finally {
  data.privateKeyDer.fill(0);
}

port.on('message', (msg: { id: number; envelopes: Uint8Array[] }) => {
  if (!key) return;
  const results = openBatch(key, msg.envelopes, data.maxBodyBytes);
  const transfer: ArrayBuffer[] = [];
  for (const r of results) if (r.ok) transfer.push(r.value.body.buffer as ArrayBuffer);
  port.postMessage({ id: msg.id, results }, transfer);
});
