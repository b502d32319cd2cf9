/**
 * Device memory of the PTX interpreter: one growable byte heap addressed from GLOBAL_BASE, allocations aligned
 * to 256 bytes (as cuMemAlloc's are) in 256-byte pages, and a page map so an access outside every live
 * allocation is an error rather than a silent read of a neighbour's bytes.
 */
import { GLOBAL_BASE } from './opcodes.js';

export const PAGE = 256;
const MAX_HEAP = 2 ** 31;

export class DeviceMemory {
  bytes: Uint8Array;
  /** 1 for every page of a live allocation. */
  pages: Uint8Array;
  private readonly free: { off: number; size: number }[] = [];
  private top = 0;
  private readonly live = new Map<number, { size: number; label: string }>();

  constructor(initial = 1 << 20) {
    this.bytes = new Uint8Array(initial);
    this.pages = new Uint8Array(initial / PAGE);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** Allocates `n` zeroed bytes; returns the device address. */
  alloc(n: number, label: string): number {
    const size = Math.max(PAGE, Math.ceil(n / PAGE) * PAGE);
    let off = -1;
    const i = this.free.findIndex((b) => b.size >= size);
    if (i >= 0) {
      const b = this.free[i] as { off: number; size: number };
      off = b.off;
      if (b.size === size) this.free.splice(i, 1);
      else {
        b.off += size;
        b.size -= size;
      }
    } else {
      off = this.top;
      this.top += size;
      this.grow(this.top);
    }
    this.bytes.fill(0, off, off + size);
    this.pages.fill(1, off / PAGE, (off + size) / PAGE);
    this.live.set(off, { size, label });
    return GLOBAL_BASE + off;
  }

  release(addr: number): void {
    const off = addr - GLOBAL_BASE;
    const a = this.live.get(off);
    if (a === undefined) throw new Error(`ptx-emu: free of address 0x${addr.toString(16)}, which is not a live allocation`);
    this.live.delete(off);
    this.pages.fill(0, off / PAGE, (off + a.size) / PAGE);
    this.free.push({ off, size: a.size });
    this.free.sort((x, y) => x.off - y.off);
    for (let j = this.free.length - 1; j > 0; j--) {
      const prev = this.free[j - 1] as { off: number; size: number };
      const cur = this.free[j] as { off: number; size: number };
      if (prev.off + prev.size === cur.off) {
        prev.size += cur.size;
        this.free.splice(j, 1);
      }
    }
  }

  /** The label of the allocation holding `addr`, for error messages. */
  describe(addr: number): string {
    const off = addr - GLOBAL_BASE;
    for (const [start, a] of this.live) if (off >= start && off < start + a.size) return `'${a.label}' + ${off - start}`;
    return 'no live allocation';
  }

  private grow(need: number): void {
    if (need <= this.bytes.length) return;
    if (need > MAX_HEAP) throw new Error(`ptx-emu: device memory would exceed ${MAX_HEAP} bytes`);
    let n = this.bytes.length;
    while (n < need) n *= 2;
    const b = new Uint8Array(Math.min(n, MAX_HEAP));
    b.set(this.bytes);
    this.bytes = b;
    const p = new Uint8Array(b.length / PAGE);
    p.set(this.pages);
    this.pages = p;
  }
}
