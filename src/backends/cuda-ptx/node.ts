/** Node-only parts of the PTX backend: ptxas as a checker and reporter, and the CUDA driver Device (koffi). */
export { formatPtxasReport, type KernelPtxasReport, parsePtxasOutput, ptxasAvailable, ptxasReport, type PtxasResult, runPtxas } from './ptxas.js';
export { type CudaBuffer, CudaDevice, type CudaDeviceInfo, type CudaDeviceOptions, type CudaKernel } from './cuda-device.js';
