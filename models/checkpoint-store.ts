/**
 * The weights of an opened checkpoint, read when a backend asks for them: nothing is held on the host between
 * reads. A backend that keeps a weight's stored dtype (bf16 stays bf16 on the Wasm device) takes its stored bytes
 * (`raw`), which go into the device buffer without being widened; others get the tensor converted to the graph's
 * dtype (`get`, as the eager loader did). Shapes and dtypes come from the headers (`describe`), so the runner
 * checks them and the device memory before anything is read.
 */
import {
  type BindingPlan,
  type DType,
  type HostTensor,
  type Progress,
  type RawTensor,
  type SafetensorsStore,
  ST_DTYPE_BYTES,
  ST_TO_DTYPE,
  type TensorStore,
  type WeightSpec,
} from '../src/index.js';

export class CheckpointStore implements TensorStore {
  private readonly specs: ReadonlyMap<string, WeightSpec>;
  /** Graph weights read at least once, for the progress of the first load. */
  private readonly seen = new Set<string>();
  private done = 0;
  private finished = false;

  constructor(
    private readonly tensors: SafetensorsStore,
    readonly plan: BindingPlan,
    private readonly progress?: Progress,
  ) {
    this.specs = new Map(plan.weights.map((w) => [w.name, w]));
  }

  names(): string[] {
    return [...this.plan.bindings.keys()];
  }

  has(name: string): boolean {
    return this.plan.bindings.has(name);
  }

  describe(name: string): { readonly dtype: DType; readonly shape: readonly number[] } {
    const w = this.spec(name);
    return { dtype: w.dtype, shape: w.shape };
  }

  /** The tensor in the graph's dtype (16-bit floats widen to f32 exactly when the graph asks for f32). */
  get(name: string): HostTensor {
    const w = this.spec(name);
    const t = this.tensors.get(this.source(name));
    this.count(name);
    return t.dtype === w.dtype ? t : { dtype: w.dtype, shape: t.shape, data: t.data };
  }

  /** The stored bytes when they already are the graph's dtype, read in byte ranges as the backend asks. */
  raw(name: string): RawTensor | undefined {
    const w = this.spec(name);
    const src = this.source(name);
    const st = this.tensors.info(src).stDtype;
    // Only element types stored as modc stores them: not I64 / U8 / BOOL (converted on read).
    if (ST_TO_DTYPE[st] !== w.dtype || !['F32', 'F16', 'BF16', 'I32', 'U32'].includes(st)) return undefined;
    const t = this.tensors.readRaw(src);
    // Counted for the progress once its bytes are being read (a Set lookup per range after the first).
    const read = (start: number, into: Uint8Array): void => {
      t.read(start, into);
      this.count(name);
    };
    return { dtype: w.dtype, shape: t.shape, byteLength: t.byteLength, read };
  }

  /** Ends the progress report (if some weight was never read, at the bytes read) and closes the files. */
  close(): void {
    this.finish();
    this.tensors.close();
  }

  private spec(name: string): WeightSpec {
    const w = this.specs.get(name);
    if (w === undefined) throw new RangeError(`no weight named '${name}' in checkpoint ${this.plan.source}`);
    return w;
  }

  private source(name: string): string {
    const src = this.plan.bindings.get(name);
    if (src === undefined) throw new RangeError(`weight '${name}' has no binding in checkpoint ${this.plan.source}`);
    return src;
  }

  private count(name: string): void {
    if (this.seen.has(name)) return;
    this.seen.add(name);
    const info = this.tensors.info(this.source(name));
    this.done += info.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[info.stDtype];
    this.progress?.update(this.done, name);
    if (this.seen.size === this.plan.bindings.size) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.progress?.finish();
  }
}
