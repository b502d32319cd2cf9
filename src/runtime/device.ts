/**
 * The Device: the one interface a backend implements to run compiled programs (buffers, kernels, dispatches).
 * Everything above it (the program runner, sessions with a resident KV cache, the CLI) is shared by every
 * backend. Handles are opaque to callers; `B` and `K` are the backend's buffer and compiled-kernel types.
 */
import type { Kernel } from '../kernel/ir.js';
import type { Target } from '../kernel/target.js';

export interface Device<B = unknown, K = unknown> {
  /** What lowering may use on this device (limits, capabilities, schedules). */
  readonly target: Target;
  /** A buffer of `bytes` (zero-filled), labelled for errors and memory reports. */
  alloc(bytes: number, label: string): B;
  free(buffer: B): void;
  /** Copies host bytes into the buffer at `byteOffset`; ordered with the dispatches around it. */
  write(buffer: B, data: ArrayBufferView, byteOffset?: number): void;
  /** Reads `bytes` (default: to the end) from `byteOffset` after every earlier dispatch and write completed. */
  read(buffer: B, byteOffset?: number, bytes?: number): Promise<Uint8Array>;
  /** Renders and compiles a kernel for this device (cached by the device where it can be). */
  compile(kernel: Kernel): Promise<K>;
  /**
   * Queues one dispatch: `buffers` in the kernel's buffer declaration order, `params` in its param order,
   * `grid` workgroups per axis. `parallel` says the grid is worth splitting over host threads (CPU devices).
   */
  dispatch(kernel: K, buffers: readonly B[], params: readonly number[], grid: readonly [number, number, number], parallel?: boolean): void;
  /** Submits queued work and resolves once it has completed. */
  flush(): Promise<void>;
  /** Releases every resource of the device. */
  dispose(): Promise<void>;
}

/** Errors a device raises for bad programs or lost devices; they name the kernel (and the node when known). */
export class DeviceError extends Error {
  override name = 'DeviceError';
}
