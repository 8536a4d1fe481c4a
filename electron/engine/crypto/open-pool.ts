/**
 * A worker_threads pool that opens many envelopes in parallel (RSA-OAEP
 * decryption dominates: ~1.6 ms per RSA-3072 envelope on one core).
 *
 * Size defaults to os.availableParallelism(). The private key goes to each worker
 * once, as PKCS#8 DER in workerData. Envelopes travel in batches (default 32) and
 * each worker has at most two batches in flight, so the pool balances itself.
 *
 * Where the worker runs from: `new URL('./open-worker.js', import.meta.url)`, i.e.
 * beside this module in the tsc build (dist/electron/engine/crypto/). When that file
 * does not exist (running from .ts sources, e.g. under vitest) and `mode` is 'auto',
 * the pool opens in-thread instead (`pool.mode === 'inline'`, same results, one
 * core); pass `workerUrl` to point at a build explicitly, or `mode: 'workers'` to
 * make a missing worker an error.
 * @module
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type BatchResult, openBatch } from './_open-batch.js';
import { type OpenKey, prepareOpenKey } from './_recipients.js';
import type { OpenedEnvelope } from './envelope.js';
import { type CryptoError, cryptoErrorOf, InvalidInputError } from './errors.js';

export interface OpenPoolOptions {
  /** Our RSA private key, PKCS#8 DER. */
  privateKeyDer: Uint8Array;
  /** Workers; default os.availableParallelism(). */
  size?: number;
  /** 'auto' (default): workers when the built worker file exists, else in-thread. */
  mode?: 'auto' | 'workers' | 'inline';
  /** Override the worker script (a built open-worker.js). */
  workerUrl?: URL;
  /** Envelopes per message to a worker. Default 32. */
  batchSize?: number;
  maxBodyBytes?: number;
}

/** One envelope's outcome. */
export type OpenOutcome = { ok: true; value: OpenedEnvelope } | { ok: false; error: CryptoError | Error };

interface Batch {
  id: number;
  envelopes: Uint8Array[];
  resolve: (r: BatchResult[]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inflight: Map<number, Batch>;
}

const MAX_INFLIGHT = 2;
const DEFAULT_WORKER_URL = new URL('./open-worker.js', import.meta.url);

const toOutcome = (r: BatchResult): OpenOutcome =>
  r.ok ? r : { ok: false, error: r.kind ? cryptoErrorOf(r.kind, r.message) : new Error(r.message) };

export class OpenPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Batch[] = [];
  private nextId = 1;
  private closed = false;
  private inlineKey: OpenKey | undefined;
  private respawns = 0;

  private constructor(
    readonly mode: 'workers' | 'inline',
    private readonly opts: OpenPoolOptions,
    private readonly workerUrl: URL,
  ) {}

  /**
   * Starts the pool; resolves once every worker has imported the key.
   * @throws {InvalidInputError} bad key or options; mode 'workers' with no worker file
   */
  static async create(opts: OpenPoolOptions): Promise<OpenPool> {
    if (!(opts?.privateKeyDer instanceof Uint8Array)) throw new InvalidInputError('privateKeyDer must be a Uint8Array');
    const key = prepareOpenKey(opts.privateKeyDer); // validates before any worker starts
    const url = opts.workerUrl ?? DEFAULT_WORKER_URL;
    const haveWorker = url.protocol === 'file:' && existsSync(fileURLToPath(url));
    const mode = opts.mode ?? 'auto';
    if (mode === 'workers' && !haveWorker) throw new InvalidInputError(`worker script not found: ${url.href} (build with tsc)`);
    const pool = new OpenPool(mode === 'inline' || !haveWorker ? 'inline' : 'workers', opts, url);
    if (pool.mode === 'inline') {
      pool.inlineKey = key;
      return pool;
    }
    const size = opts.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1 || size > 256) throw new InvalidInputError('size must be 1..256');
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers (0 in-thread). */
  get size(): number {
    return this.slots.length;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.workerUrl, {
        workerData: { privateKeyDer: Uint8Array.from(this.opts.privateKeyDer), maxBodyBytes: this.opts.maxBodyBytes },
      });
      const slot: Slot = { worker, inflight: new Map() };
      let ready = false;
      let dead = false;
      worker.on('message', (msg: { ready?: boolean; message?: string; id?: number; results?: BatchResult[] }) => {
        if (!ready) {
          if (msg.ready) {
            ready = true;
            this.slots.push(slot);
            worker.unref();
            resolve();
            this.pump();
          } else {
            reject(new InvalidInputError(msg.message ?? 'worker failed to start'));
            void worker.terminate();
          }
          return;
        }
        const batch = slot.inflight.get(msg.id!);
        if (!batch) return;
        slot.inflight.delete(msg.id!);
        if (slot.inflight.size === 0) worker.unref();
        batch.resolve(msg.results!);
        this.pump();
      });
      const fail = (err: Error): void => {
        if (dead) return;
        dead = true;
        if (!ready) return reject(err);
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots.splice(i, 1);
        for (const b of slot.inflight.values()) b.reject(err);
        slot.inflight.clear();
        if (!this.closed && this.respawns++ < 4) {
          this.spawn().catch(() => this.failQueue(err));
        } else if (this.slots.length === 0) {
          this.failQueue(err);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`open worker exited with code ${code}`));
      });
    });
  }

  private failQueue(err: Error): void {
    for (const b of this.queue.splice(0)) b.reject(err);
  }

  private pump(): void {
    while (this.queue.length) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.inflight.size < MAX_INFLIGHT && (!best || s.inflight.size < best.inflight.size)) best = s;
      if (!best) return;
      const batch = this.queue.shift()!;
      best.inflight.set(batch.id, batch);
      best.worker.ref();
      best.worker.postMessage({ id: batch.id, envelopes: batch.envelopes });
    }
  }

  private run(envelopes: Uint8Array[]): Promise<BatchResult[]> {
    if (this.closed) return Promise.reject(new Error('open pool is closed'));
    if (this.mode === 'inline') {
      // Yield to the event loop between batches so the caller's I/O keeps flowing.
      return new Promise((resolve) => setImmediate(() => resolve(openBatch(this.inlineKey!, envelopes, this.opts.maxBodyBytes))));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, envelopes, resolve, reject });
      this.pump();
    });
  }

  /**
   * Opens one envelope.
   * @throws the CryptoError openEnvelope would throw; Error if the pool is closed or a worker died
   */
  async open(envelope: Uint8Array): Promise<OpenedEnvelope> {
    const [r] = (await this.run([envelope])).map(toOutcome);
    if (!r!.ok) throw r!.error;
    return r!.value;
  }

  /**
   * Opens many envelopes; one outcome per input, in order (a bad envelope does not
   * fail the others).
   * @throws Error if the pool is closed or a worker died mid-batch
   */
  async openMany(envelopes: readonly Uint8Array[]): Promise<OpenOutcome[]> {
    const size = this.opts.batchSize ?? 32;
    const parts: Promise<BatchResult[]>[] = [];
    for (let i = 0; i < envelopes.length; i += size) parts.push(this.run(envelopes.slice(i, i + size)));
    return (await Promise.all(parts)).flat().map(toOutcome);
  }

  /** Stops the workers; pending calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('open pool is closed');
    this.failQueue(err);
    for (const s of this.slots.splice(0)) {
      for (const b of s.inflight.values()) b.reject(err);
      await s.worker.terminate();
    }
    this.inlineKey = undefined;
  }
}

/** Same as {@link OpenPool.create}. */
export const createOpenPool = (opts: OpenPoolOptions): Promise<OpenPool> => OpenPool.create(opts);
