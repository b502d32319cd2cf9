/**
 * The CUDA driver API through koffi (FFI to libcuda.so.1): the functions the CUDA device calls, typed, with
 * every CUresult turned into an error naming the call and the driver's own name and text for the code.
 * Node-only; koffi is an optional dependency, loaded on first use.
 */
import { DeviceError } from '../../../runtime/device.js';

/** An opaque driver handle (CUcontext, CUstream, CUmodule, CUfunction, CUevent) as koffi returns it. */
export type Handle = unknown;

export interface Driver {
  cuInit(flags: number): number;
  cuDriverGetVersion(out: number[]): number;
  cuDeviceGetCount(out: number[]): number;
  cuDeviceGet(out: number[], ordinal: number): number;
  cuDeviceGetName(buf: Buffer, len: number, dev: number): number;
  cuDeviceGetAttribute(out: number[], attrib: number, dev: number): number;
  cuDeviceTotalMem_v2(out: number[], dev: number): number;
  cuDevicePrimaryCtxRetain(out: Handle[], dev: number): number;
  cuDevicePrimaryCtxRelease_v2(dev: number): number;
  cuCtxSetCurrent(ctx: Handle): number;
  cuMemAlloc_v2(out: number[], bytes: number): number;
  cuMemFree_v2(ptr: number): number;
  cuMemsetD8Async(ptr: number, value: number, bytes: number, stream: Handle): number;
  cuMemcpyHtoDAsync_v2(dst: number, src: Buffer, bytes: number, stream: Handle): number;
  cuMemcpyDtoHAsync_v2(dst: Buffer, src: number, bytes: number, stream: Handle): number;
  cuStreamCreate(out: Handle[], flags: number): number;
  cuStreamSynchronize(stream: Handle): number;
  cuStreamDestroy_v2(stream: Handle): number;
  cuEventCreate(out: Handle[], flags: number): number;
  cuEventRecord(event: Handle, stream: Handle): number;
  cuEventSynchronize(event: Handle): number;
  cuEventElapsedTime(out: number[], start: Handle, end: Handle): number;
  cuEventDestroy_v2(event: Handle): number;
  cuModuleLoadDataEx(out: Handle[], image: Buffer, n: number, options: Int32Array, values: BigUint64Array): number;
  cuModuleGetFunction(out: Handle[], mod: Handle, name: string): number;
  cuModuleUnload(mod: Handle): number;
  cuLaunchKernel(f: Handle, gx: number, gy: number, gz: number, bx: number, by: number, bz: number, shmem: number, stream: Handle, params: BigUint64Array, extra: null): number;
  cuGetErrorName(r: number, out: (string | null)[]): number;
  cuGetErrorString(r: number, out: (string | null)[]): number;
  /** The address of a Node buffer's bytes (for parameter and JIT option arrays). */
  address(buf: Buffer): bigint;
}

/** Prototypes in koffi's C syntax; `unsigned int`, never bare `unsigned` (koffi 3 rejects it). */
const PROTOTYPES: Readonly<Record<Exclude<keyof Driver, 'address'>, string>> = {
  cuInit: 'int cuInit(unsigned int flags)',
  cuDriverGetVersion: 'int cuDriverGetVersion(_Out_ int *version)',
  cuDeviceGetCount: 'int cuDeviceGetCount(_Out_ int *count)',
  cuDeviceGet: 'int cuDeviceGet(_Out_ int *device, int ordinal)',
  cuDeviceGetName: 'int cuDeviceGetName(_Out_ uint8_t *name, int len, int dev)',
  cuDeviceGetAttribute: 'int cuDeviceGetAttribute(_Out_ int *value, int attrib, int dev)',
  cuDeviceTotalMem_v2: 'int cuDeviceTotalMem_v2(_Out_ size_t *bytes, int dev)',
  cuDevicePrimaryCtxRetain: 'int cuDevicePrimaryCtxRetain(_Out_ void **ctx, int dev)',
  cuDevicePrimaryCtxRelease_v2: 'int cuDevicePrimaryCtxRelease_v2(int dev)',
  cuCtxSetCurrent: 'int cuCtxSetCurrent(void *ctx)',
  cuMemAlloc_v2: 'int cuMemAlloc_v2(_Out_ uint64_t *dptr, size_t bytes)',
  cuMemFree_v2: 'int cuMemFree_v2(uint64_t dptr)',
  cuMemsetD8Async: 'int cuMemsetD8Async(uint64_t dptr, unsigned char value, size_t n, void *stream)',
  cuMemcpyHtoDAsync_v2: 'int cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t bytes, void *stream)',
  cuMemcpyDtoHAsync_v2: 'int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t bytes, void *stream)',
  cuStreamCreate: 'int cuStreamCreate(_Out_ void **stream, unsigned int flags)',
  cuStreamSynchronize: 'int cuStreamSynchronize(void *stream)',
  cuStreamDestroy_v2: 'int cuStreamDestroy_v2(void *stream)',
  cuEventCreate: 'int cuEventCreate(_Out_ void **event, unsigned int flags)',
  cuEventRecord: 'int cuEventRecord(void *event, void *stream)',
  cuEventSynchronize: 'int cuEventSynchronize(void *event)',
  cuEventElapsedTime: 'int cuEventElapsedTime(_Out_ float *ms, void *start, void *end)',
  cuEventDestroy_v2: 'int cuEventDestroy_v2(void *event)',
  cuModuleLoadDataEx: 'int cuModuleLoadDataEx(_Out_ void **module, const void *image, unsigned int numOptions, int *options, void *optionValues)',
  cuModuleGetFunction: 'int cuModuleGetFunction(_Out_ void **fn, void *module, const char *name)',
  cuModuleUnload: 'int cuModuleUnload(void *module)',
  cuLaunchKernel:
    'int cuLaunchKernel(void *f, unsigned int gridX, unsigned int gridY, unsigned int gridZ, unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedMemBytes, void *stream, void *kernelParams, void *extra)',
  cuGetErrorName: 'int cuGetErrorName(int error, _Out_ const char **name)',
  cuGetErrorString: 'int cuGetErrorString(int error, _Out_ const char **text)',
};

export const DEFAULT_LIBRARY = 'libcuda.so.1';

interface Koffi {
  load(path: string): { func(proto: string): (...args: unknown[]) => unknown };
  address(buf: Buffer): bigint;
}

/** Loads the driver library; errors say what is missing (koffi, or the NVIDIA driver and its library name). */
export async function loadDriver(library = DEFAULT_LIBRARY): Promise<Driver> {
  let koffi: Koffi;
  try {
    const mod = (await import('koffi')) as { default?: Koffi } & Koffi;
    koffi = mod.default ?? mod;
  } catch (e) {
    throw new DeviceError(`cuda: the optional dependency koffi (FFI to ${library}) is not installed (${(e as Error).message}): run npm install koffi`);
  }
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load(library);
  } catch (e) {
    throw new DeviceError(`cuda: cannot load the NVIDIA driver library ${library} (${(e as Error).message}): no NVIDIA driver is installed on this machine`);
  }
  const out: Record<string, unknown> = { address: (b: Buffer) => koffi.address(b) };
  for (const [name, proto] of Object.entries(PROTOTYPES)) {
    try {
      out[name] = lib.func(proto);
    } catch (e) {
      throw new DeviceError(`cuda: ${library} has no usable ${name} (${(e as Error).message}); the driver is too old or not NVIDIA's`);
    }
  }
  return out as unknown as Driver;
}

/** Throws a DeviceError for a failed driver call: `cuda: cuMemAlloc_v2 (1048576 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory`. */
export function check(d: Driver, r: number, call: string): void {
  if (r === 0) return;
  const name: (string | null)[] = [null];
  const text: (string | null)[] = [null];
  d.cuGetErrorName(r, name);
  d.cuGetErrorString(r, text);
  throw new DeviceError(`cuda: ${call} failed: ${name[0] ?? 'unknown CUresult'} (${r}): ${text[0] ?? ''}`);
}

/** cuDeviceGetAttribute codes the device reads. */
export const ATTR = {
  maxThreadsPerBlock: 1,
  maxGridX: 5,
  maxGridY: 6,
  maxGridZ: 7,
  sharedPerBlock: 8,
  multiprocessors: 16,
  ccMajor: 75,
  ccMinor: 76,
} as const;

/** cuModuleLoadDataEx JIT options. */
export const JIT = { infoLog: 3, infoLogSize: 4, errorLog: 5, errorLogSize: 6 } as const;
