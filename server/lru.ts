/**
 * A small bounded map that forgets the least recently set entries: per-instance
 * memo of pure computations on the hot path (JWT signature checks, token
 * HMACs), or of rows kept coherent by their owner (store/auth-read-cache.ts).
 * Never the source of truth: a miss just recomputes.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
