// Small CUDA C kernels whose nvcc-generated PTX checks the PTX interpreter against NVIDIA's compiler
// (test/backends/cuda-ptx/emu-nvcc.test.ts compiles this file with `nvcc -ptx -arch=sm_80` at test time).
#include <cuda_fp16.h>
extern "C" {
__global__ void block_sum(const float* __restrict__ x, float* out, int n) {
  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}
__global__ void saxpy_loop(int n, float a, const float* x, float* y) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) y[i] = a * x[i] + y[i];
}
__global__ void leaky(const float* x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) { float v = x[i]; out[i] = v > 0.0f ? v : 0.1f * v; }
}
__global__ void half_affine(const __half* in, __half* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2half_rn(__half2float(in[i]) * 2.0f + 1.0f);
}
__global__ void wide_index(const long long* in, long long* out, size_t stride) {
  size_t i = (size_t)blockIdx.x * stride + threadIdx.x;
  out[i] = in[i] * 3 + (long long)i;
}
__global__ void int_ops(const int* a, int* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) { int v = a[i]; out[4*i] = v / 10; out[4*i+1] = v % 7; out[4*i+2] = __popc(v) + __clz(v); out[4*i+3] = (unsigned)v >> 3; }
}
__global__ void dbl(const double* a, const double* b, double* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = fma(sqrt(a[i]), b[i], 1.0 / b[i]);
}
__global__ void transpose16(const float* in, float* out, int w) {
  __shared__ float tile[16][17];
  int x = blockIdx.x * 16 + threadIdx.x, y = blockIdx.y * 16 + threadIdx.y;
  tile[threadIdx.y][threadIdx.x] = in[y * w + x];
  __syncthreads();
  int ox = blockIdx.y * 16 + threadIdx.x, oy = blockIdx.x * 16 + threadIdx.y;
  out[oy * w + ox] = tile[threadIdx.x][threadIdx.y];
}
}
