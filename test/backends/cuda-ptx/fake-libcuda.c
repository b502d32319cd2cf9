/*
 * A fake libcuda.so for the CUDA device's marshalling tests (test/backends/cuda-ptx/cuda-device.test.ts builds
 * it with gcc into a temporary directory). It exports the driver-API symbols the device calls, keeps device
 * memory as malloc'd host memory, and appends one line per call with its arguments to $FAKE_CUDA_LOG. It does
 * not run kernels: a launch logs its grid, block and every parameter, decoded with the entry's .param list.
 * $FAKE_CUDA_DRIVER_VERSION (default 12040) and $FAKE_CUDA_MAX_ISA (default 84, i.e. 8.4) set what it reports
 * and which PTX .version its JIT refuses.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

#ifndef FAKE_CUDA_LOG
#error "compile with -DFAKE_CUDA_LOG=\"path\""
#endif
#ifndef FAKE_CUDA_DRIVER_VERSION
#define FAKE_CUDA_DRIVER_VERSION 12040
#endif
#ifndef FAKE_CUDA_MAX_ISA
#define FAKE_CUDA_MAX_ISA 84
#endif

static void logf_(const char *fmt, ...) {
  FILE *f = fopen(FAKE_CUDA_LOG, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

CUresult cuInit(unsigned int flags) { logf_("cuInit flags=%u", flags); return 0; }
CUresult cuDriverGetVersion(int *v) { *v = FAKE_CUDA_DRIVER_VERSION; logf_("cuDriverGetVersion -> %d", *v); return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; logf_("cuDeviceGetCount -> 1"); return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  logf_("cuDeviceGet ordinal=%d", ordinal);
  if (ordinal != 0) return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *d = 0;
  return 0;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice d) { snprintf(name, (size_t)len, "Fake H200"); logf_("cuDeviceGetName len=%d dev=%d", len, d); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attrib, CUdevice d) {
  switch (attrib) {
    case 1: *v = 1024; break;               /* MAX_THREADS_PER_BLOCK */
    case 5: *v = 2147483647; break;         /* MAX_GRID_DIM_X */
    case 6: case 7: *v = 65535; break;      /* MAX_GRID_DIM_Y / Z */
    case 8: *v = 49152; break;              /* MAX_SHARED_MEMORY_PER_BLOCK */
    case 16: *v = 132; break;               /* MULTIPROCESSOR_COUNT */
    case 75: *v = 9; break;                 /* COMPUTE_CAPABILITY_MAJOR */
    case 76: *v = 0; break;                 /* COMPUTE_CAPABILITY_MINOR */
    default: *v = 0; break;
  }
  logf_("cuDeviceGetAttribute attrib=%d dev=%d -> %d", attrib, d, *v);
  return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) { *bytes = (size_t)141 << 30; logf_("cuDeviceTotalMem_v2 dev=%d", d); return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice d) { *ctx = (void *)0x1000; logf_("cuDevicePrimaryCtxRetain dev=%d -> 0x1000", d); return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { logf_("cuDevicePrimaryCtxRelease_v2 dev=%d", d); return 0; }
CUresult cuCtxSetCurrent(void *ctx) { logf_("cuCtxSetCurrent ctx=%p", ctx); return 0; }
CUresult cuCtxSynchronize(void) { logf_("cuCtxSynchronize"); return 0; }

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  void *m = malloc(bytes ? bytes : 1);
  if (!m) return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
  *p = (CUdeviceptr)(uintptr_t)m;
  logf_("cuMemAlloc_v2 bytes=%zu -> 0x%llx", bytes, *p);
  return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { logf_("cuMemFree_v2 ptr=0x%llx", p); free((void *)(uintptr_t)p); return 0; }
CUresult cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, void *s) { memset((void *)(uintptr_t)p, v, n); logf_("cuMemsetD8Async ptr=0x%llx value=%u bytes=%zu stream=%p", p, v, n, s); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *s) {
  memcpy((void *)(uintptr_t)dst, src, n);
  logf_("cuMemcpyHtoDAsync_v2 dst=0x%llx bytes=%zu stream=%p", dst, n, s);
  return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *s) {
  memcpy(dst, (const void *)(uintptr_t)src, n);
  logf_("cuMemcpyDtoHAsync_v2 src=0x%llx bytes=%zu stream=%p", src, n, s);
  return 0;
}

static int next_handle = 0x2000;
CUresult cuStreamCreate(void **s, unsigned int flags) { *s = (void *)(intptr_t)(next_handle++); logf_("cuStreamCreate flags=%u -> %p", flags, *s); return 0; }
CUresult cuStreamSynchronize(void *s) { logf_("cuStreamSynchronize stream=%p", s); return 0; }
CUresult cuStreamDestroy_v2(void *s) { logf_("cuStreamDestroy_v2 stream=%p", s); return 0; }
CUresult cuEventCreate(void **e, unsigned int flags) { *e = (void *)(intptr_t)(next_handle++); logf_("cuEventCreate flags=%u -> %p", flags, *e); return 0; }
CUresult cuEventRecord(void *e, void *s) { logf_("cuEventRecord event=%p stream=%p", e, s); return 0; }
CUresult cuEventSynchronize(void *e) { logf_("cuEventSynchronize event=%p", e); return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { *ms = 0.25f; logf_("cuEventElapsedTime start=%p end=%p", a, b); return 0; }
CUresult cuEventDestroy_v2(void *e) { logf_("cuEventDestroy_v2 event=%p", e); return 0; }

CUresult cuGetErrorName(CUresult r, const char **s) { *s = r == 218 ? "CUDA_ERROR_INVALID_PTX" : r == 500 ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR_UNKNOWN"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **s) { *s = r == 218 ? "a PTX JIT compilation failed" : r == 500 ? "named symbol not found" : "unknown error"; return 0; }

/* Modules keep a copy of their PTX text, to find entries and their parameter lists. */
struct module { char *ptx; };
struct function { struct module *m; char name[256]; };

static void copy_line(char *out, size_t n, const char *from) {
  size_t i = 0;
  while (from[i] && from[i] != '\n' && i + 1 < n) { out[i] = from[i]; i++; }
  out[i] = 0;
}

CUresult cuModuleLoadDataEx(void **mod, const void *image, unsigned int n, int *options, void **values) {
  const char *ptx = (const char *)image;
  const char *v = strstr(ptx, ".version ");
  const char *t = strstr(ptx, ".target ");
  char vline[64] = "", tline[64] = "";
  if (v) copy_line(vline, sizeof vline, v);
  if (t) copy_line(tline, sizeof tline, t);
  logf_("cuModuleLoadDataEx options=%u %s %s", n, vline, tline);
  char *errbuf = NULL;
  size_t errsize = 0;
  for (unsigned int i = 0; i < n; i++) {
    if (options[i] == 5) errbuf = (char *)values[i];          /* CU_JIT_ERROR_LOG_BUFFER */
    if (options[i] == 6) errsize = (size_t)(uintptr_t)values[i]; /* CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES */
  }
  int major = 0, minor = 0;
  if (v) sscanf(v, ".version %d.%d", &major, &minor);
  int max = FAKE_CUDA_MAX_ISA;
  if (major * 10 + minor > max) {
    if (errbuf && errsize) snprintf(errbuf, errsize, "ptxas application ptx input, line 9; fatal   : Unsupported .version %d.%d; current version is '%d.%d'", major, minor, max / 10, max % 10);
    return 218; /* CUDA_ERROR_INVALID_PTX */
  }
  struct module *m = malloc(sizeof *m);
  m->ptx = strdup(ptx);
  *mod = m;
  return 0;
}
CUresult cuModuleUnload(void *mod) { struct module *m = mod; logf_("cuModuleUnload"); free(m->ptx); free(m); return 0; }
CUresult cuModuleGetFunction(void **fn, void *mod, const char *name) {
  struct module *m = mod;
  char pattern[300];
  snprintf(pattern, sizeof pattern, ".entry %s(", name);
  logf_("cuModuleGetFunction name=%s", name);
  if (!strstr(m->ptx, pattern)) return 500; /* CUDA_ERROR_NOT_FOUND */
  struct function *f = malloc(sizeof *f);
  f->m = m;
  snprintf(f->name, sizeof f->name, "%s", name);
  *fn = f;
  return 0;
}

CUresult cuLaunchKernel(void *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz,
                        unsigned int shmem, void *stream, void **params, void **extra) {
  struct function *f = fn;
  char line[4096];
  int at = snprintf(line, sizeof line, "cuLaunchKernel %s grid=%ux%ux%u block=%ux%ux%u shmem=%u stream=%p extra=%p params=", f->name, gx, gy, gz, bx, by, bz, shmem, stream, (void *)extra);
  char pattern[300];
  snprintf(pattern, sizeof pattern, ".entry %s(", f->name);
  const char *p = strstr(f->m->ptx, pattern);
  const char *end = p ? strchr(p, ')') : NULL;
  int i = 0;
  while (p && end && (p = strstr(p, ".param .")) && p < end) {
    p += 8;
    if (!strncmp(p, "u64", 3)) at += snprintf(line + at, sizeof line - at, "%s0x%llx", i ? "," : "", *(unsigned long long *)params[i]);
    else if (!strncmp(p, "f32", 3)) at += snprintf(line + at, sizeof line - at, "%s%g", i ? "," : "", *(float *)params[i]);
    else at += snprintf(line + at, sizeof line - at, "%s%d", i ? "," : "", *(int *)params[i]);
    i++;
  }
  logf_("%s", line);
  return 0;
}
