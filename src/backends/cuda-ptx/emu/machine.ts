/**
 * The PTX interpreter as a small driver: load module text (parse + decode every entry once), allocate device
 * memory, pack kernel parameters as the entry declares them, and launch with a grid and block shape.
 */
import { type DecodedEntry, decodeEntry } from './decode.js';
import { launch, type LaunchStats } from './exec.js';
import { DeviceMemory } from './memory.js';
import { parsePtx } from './parse.js';

export interface LoadedModule {
  readonly version: string;
  readonly target: string;
  readonly entries: ReadonlyMap<string, DecodedEntry>;
}

/** A kernel argument: a number for a scalar parameter (typed by the entry), or a device address for a pointer. */
export type KernelArg = number;

export class PtxMachine {
  readonly memory = new DeviceMemory();
  /** Instructions executed by every launch so far. */
  instructions = 0;

  load(ptx: string): LoadedModule {
    const mod = parsePtx(ptx);
    const entries = new Map<string, DecodedEntry>();
    for (const e of mod.entries) entries.set(e.name, decodeEntry(mod, e.name));
    return { version: mod.version, target: mod.target, entries };
  }

  /** Packs arguments into a parameter buffer laid out as the entry's .param list (little endian). */
  packParams(e: DecodedEntry, args: readonly KernelArg[]): Uint8Array {
    if (args.length !== e.params.length) throw new Error(`ptx-emu: entry '${e.name}' takes ${e.params.length} parameters, got ${args.length}`);
    const buf = new Uint8Array(Math.max(8, e.paramBytes));
    const v = new DataView(buf.buffer);
    e.params.forEach((p, i) => {
      const x = args[i] ?? 0;
      switch (p.type) {
        case 'f32':
          v.setFloat32(p.offset, x, true);
          break;
        case 'f64':
          v.setFloat64(p.offset, x, true);
          break;
        case 'u64':
        case 's64':
        case 'b64':
          v.setUint32(p.offset, x % 2 ** 32, true);
          v.setInt32(p.offset + 4, Math.floor(x / 2 ** 32), true);
          break;
        case 'u16':
        case 's16':
        case 'b16':
          v.setUint16(p.offset, x & 0xffff, true);
          break;
        case 'u8':
        case 's8':
        case 'b8':
          if (p.bytes !== 1) throw new Error(`ptx-emu: entry '${e.name}': array parameter '${p.name}' cannot be passed as a number`);
          v.setUint8(p.offset, x & 0xff);
          break;
        default:
          v.setInt32(p.offset, x | 0, true);
      }
    });
    return buf;
  }

  launch(e: DecodedEntry, grid: readonly [number, number, number], block: readonly [number, number, number], args: readonly KernelArg[], dynamicShared = 0): LaunchStats {
    const stats = launch(e, this.memory, { grid, block, params: this.packParams(e, args), dynamicShared });
    this.instructions += stats.instructions;
    return stats;
  }

  write(addr: number, data: ArrayBufferView): void {
    const off = this.offset(addr, data.byteLength);
    this.memory.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), off);
  }

  read(addr: number, bytes: number): Uint8Array {
    const off = this.offset(addr, bytes);
    return this.memory.bytes.slice(off, off + bytes);
  }

  private offset(addr: number, bytes: number): number {
    const off = addr - 2 ** 32;
    if (off < 0 || off + bytes > this.memory.size) throw new Error(`ptx-emu: host copy of ${bytes} bytes at 0x${addr.toString(16)} outside device memory`);
    return off;
  }
}
