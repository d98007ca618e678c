// paralift_cuda.h -- a small CUDA-on-CPU runtime (paralift issue 3).
//
// A .cu file rewritten by paralift.sandbox.cuda_cpu.rewrite() builds with
//   g++ -std=c++17 -fopenmp -I<this folder>
// and runs its kernels on the CPU:
//   * blocks are spread over OS threads (the caller and helper threads kept
//     for the process; 2 by default, OMP_NUM_THREADS or PARALIFT_CUDA_THREADS
//     override);
//   * the threads of one block are cooperative fibers (a hand-written x86-64
//     context switch; ucontext elsewhere) that switch only at __syncthreads,
//     __syncwarp, warp collectives and __nanosleep.  A fiber runs until it
//     blocks, so a missing barrier shows up as a wrong result in one of the two
//     scheduling orders (PARALIFT_CUDA_ORDER=forward|reverse);
//   * barriers count live threads only (exited threads are not waited for, as
//     on Volta+); all live threads blocked at different barrier sites is a
//     deadlock: a message naming the kernel on stderr and exit status 86;
//   * device memory is exact-size malloc (AddressSanitizer sees overflows),
//     filled with 0xFF bytes (NaN / -1) so that unwritten output is visible;
//     static __shared__ arrays are exact-size heap blocks per thread block;
//   * under -fsanitize=thread every CUDA thread is a TSan fiber and only
//     barriers / warp collectives order them: shared-memory races and
//     non-atomic read-modify-writes are reported as data races.
// Everything that is not CUDA API lives in namespace paralift_cuda or carries
// a __pl_ prefix.
#ifndef PARALIFT_CUDA_H
#define PARALIFT_CUDA_H

#ifndef __cplusplus
#error "paralift_cuda.h must be compiled as C++17 (g++ -std=c++17)"
#endif

// Only what CUDA's own headers bring in (cmath, cstdlib, cstdio, cstring, new,
// ...) plus the little the runtime needs: every included header costs compile
// time in every candidate.
#include <atomic>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if !defined(__x86_64__) || defined(PARALIFT_CUDA_UCONTEXT)
#define PL_UCONTEXT 1
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PL_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define PL_TSAN 1
#include <sanitizer/tsan_interface.h>
extern "C" void AnnotateIgnoreReadsBegin(const char*, int);
extern "C" void AnnotateIgnoreReadsEnd(const char*, int);
extern "C" void AnnotateIgnoreWritesBegin(const char*, int);
extern "C" void AnnotateIgnoreWritesEnd(const char*, int);
#endif

#define PARALIFT_CUDA_CPU 1
#define PARALIFT_CUDA_DEADLOCK_EXIT 86
#ifndef __CUDACC__
#define __CUDACC__ 1
#endif
#ifndef CUDART_VERSION
#define CUDART_VERSION 12000
#endif
#ifndef CUDA_VERSION
#define CUDA_VERSION 12000
#endif
#ifndef __CUDART_API_VERSION
#define __CUDART_API_VERSION 12000
#endif

// ---------------------------------------------------------------------------
// qualifiers
// ---------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __maxnreg__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __device_builtin__
#define __cudart_builtin__
#define __grid_constant__
#ifndef __shared__
// The rewriter turns __shared__ declarations into per-block heap blocks; this
// is only a fallback for declarations it could not see (e.g. built by macros).
#define __shared__ static thread_local
#endif

// ---------------------------------------------------------------------------
// vector types
// ---------------------------------------------------------------------------
#define PL_VEC1(T, N, A)                                                                   \
  struct __attribute__((aligned(A))) N##1 { T x; };                                       \
  inline N##1 make_##N##1(T x) { N##1 r; r.x = x; return r; }
#define PL_VEC2(T, N, A)                                                                   \
  struct __attribute__((aligned(A))) N##2 { T x, y; };                                    \
  inline N##2 make_##N##2(T x, T y) { N##2 r; r.x = x; r.y = y; return r; }
#define PL_VEC3(T, N)                                                                      \
  struct N##3 { T x, y, z; };                                                              \
  inline N##3 make_##N##3(T x, T y, T z) { N##3 r; r.x = x; r.y = y; r.z = z; return r; }
#define PL_VEC4(T, N, A)                                                                   \
  struct __attribute__((aligned(A))) N##4 { T x, y, z, w; };                              \
  inline N##4 make_##N##4(T x, T y, T z, T w) { N##4 r; r.x = x; r.y = y; r.z = z; r.w = w; return r; }
#define PL_VECS(T, N, A1, A2, A4) PL_VEC1(T, N, A1) PL_VEC2(T, N, A2) PL_VEC3(T, N) PL_VEC4(T, N, A4)
PL_VECS(signed char, char, 1, 2, 4)
PL_VECS(unsigned char, uchar, 1, 2, 4)
PL_VECS(short, short, 2, 4, 8)
PL_VECS(unsigned short, ushort, 2, 4, 8)
PL_VECS(int, int, 4, 8, 16)
PL_VECS(unsigned int, uint, 4, 8, 16)
PL_VECS(long, long, 8, 16, 16)
PL_VECS(unsigned long, ulong, 8, 16, 16)
PL_VECS(long long, longlong, 8, 16, 16)
PL_VECS(unsigned long long, ulonglong, 8, 16, 16)
PL_VECS(float, float, 4, 8, 16)
PL_VECS(double, double, 8, 16, 16)
#undef PL_VEC1
#undef PL_VEC2
#undef PL_VEC3
#undef PL_VEC4
#undef PL_VECS

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// CUDA's built-in variables: thread-local globals (not macros, so host code may
// still name a local dim3 blockDim) that the block scheduler sets before it
// switches to a CUDA thread.  Constant-initialised, so access is one TLS load.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

// ---------------------------------------------------------------------------
// error codes, enums, handles
// ---------------------------------------------------------------------------
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorCudartUnloading = 4,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidPitchValue = 12,
  cudaErrorInvalidSymbol = 13,
  cudaErrorInvalidHostPointer = 16,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
  cudaErrorCooperativeLaunchTooLarge = 720,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};
enum cudaFuncCache { cudaFuncCachePreferNone = 0, cudaFuncCachePreferShared = 1, cudaFuncCachePreferL1 = 2, cudaFuncCachePreferEqual = 3 };
enum cudaSharedMemConfig { cudaSharedMemBankSizeDefault = 0, cudaSharedMemBankSizeFourByte = 1, cudaSharedMemBankSizeEightByte = 2 };
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9
};
enum cudaLimit { cudaLimitStackSize = 0, cudaLimitPrintfFifoSize = 1, cudaLimitMallocHeapSize = 2 };
enum cudaMemoryType { cudaMemoryTypeUnregistered = 0, cudaMemoryTypeHost = 1, cudaMemoryTypeDevice = 2, cudaMemoryTypeManaged = 3 };
enum cudaMemoryAdvise {
  cudaMemAdviseSetReadMostly = 1, cudaMemAdviseUnsetReadMostly = 2, cudaMemAdviseSetPreferredLocation = 3,
  cudaMemAdviseUnsetPreferredLocation = 4, cudaMemAdviseSetAccessedBy = 5, cudaMemAdviseUnsetAccessedBy = 6
};
enum cudaMemLocationType {
  cudaMemLocationTypeInvalid = 0, cudaMemLocationTypeDevice = 1, cudaMemLocationTypeHost = 2,
  cudaMemLocationTypeHostNuma = 3, cudaMemLocationTypeHostNumaCurrent = 4
};
struct cudaMemLocation {
  enum cudaMemLocationType type;
  int id;
};
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1, cudaDevAttrMaxBlockDimX = 2, cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4, cudaDevAttrMaxGridDimX = 5, cudaDevAttrMaxGridDimY = 6, cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8, cudaDevAttrTotalConstantMemory = 9, cudaDevAttrWarpSize = 10,
  cudaDevAttrMaxPitch = 11, cudaDevAttrMaxRegistersPerBlock = 12, cudaDevAttrClockRate = 13,
  cudaDevAttrTextureAlignment = 14, cudaDevAttrGpuOverlap = 15, cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrKernelExecTimeout = 17, cudaDevAttrIntegrated = 18, cudaDevAttrCanMapHostMemory = 19,
  cudaDevAttrComputeMode = 20, cudaDevAttrConcurrentKernels = 31, cudaDevAttrEccEnabled = 32,
  cudaDevAttrPciBusId = 33, cudaDevAttrPciDeviceId = 34, cudaDevAttrMemoryClockRate = 36,
  cudaDevAttrGlobalMemoryBusWidth = 37, cudaDevAttrL2CacheSize = 38, cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrAsyncEngineCount = 40, cudaDevAttrUnifiedAddressing = 41, cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76, cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxRegistersPerMultiprocessor = 82, cudaDevAttrManagedMemory = 83, cudaDevAttrIsMultiGpuBoard = 84,
  cudaDevAttrConcurrentManagedAccess = 89, cudaDevAttrCooperativeLaunch = 95,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
};

#define cudaHostAllocDefault 0x00
#define cudaHostAllocPortable 0x01
#define cudaHostAllocMapped 0x02
#define cudaHostAllocWriteCombined 0x04
#define cudaHostRegisterDefault 0x00
#define cudaHostRegisterPortable 0x01
#define cudaHostRegisterMapped 0x02
#define cudaMemAttachGlobal 0x01
#define cudaMemAttachHost 0x02
#define cudaMemAttachSingle 0x04
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02
#define cudaEventInterprocess 0x04
#define cudaDeviceScheduleAuto 0x00
#define cudaDeviceScheduleSpin 0x01
#define cudaDeviceScheduleYield 0x02
#define cudaDeviceScheduleBlockingSync 0x04
#define cudaDeviceMapHost 0x08
#define cudaDeviceLmemResizeToMax 0x10
#define cudaCpuDeviceId (-1)
#define cudaInvalidDeviceId (-2)

struct CUstream_st { unsigned flags; int priority; };
struct CUevent_st { unsigned flags; bool recorded; double t_ms; };
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)
typedef void (*cudaHostFn_t)(void* userData);
typedef void (*cudaStreamCallback_t)(cudaStream_t stream, cudaError_t status, void* userData);

struct cudaDeviceProp {
  char name[256];
  char uuid[16];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  size_t memPitch;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int clockRate;
  size_t totalConstMem;
  int major;
  int minor;
  size_t textureAlignment;
  size_t texturePitchAlignment;
  int deviceOverlap;
  int multiProcessorCount;
  int kernelExecTimeoutEnabled;
  int integrated;
  int canMapHostMemory;
  int computeMode;
  int concurrentKernels;
  int ECCEnabled;
  int pciBusID;
  int pciDeviceID;
  int pciDomainID;
  int tccDriver;
  int asyncEngineCount;
  int unifiedAddressing;
  int memoryClockRate;
  int memoryBusWidth;
  int l2CacheSize;
  int persistingL2CacheMaxSize;
  int maxThreadsPerMultiProcessor;
  int streamPrioritiesSupported;
  int globalL1CacheSupported;
  int localL1CacheSupported;
  size_t sharedMemPerMultiprocessor;
  int regsPerMultiprocessor;
  int managedMemory;
  int isMultiGpuBoard;
  int multiGpuBoardGroupID;
  int hostNativeAtomicSupported;
  int singleToDoublePrecisionPerfRatio;
  int pageableMemoryAccess;
  int concurrentManagedAccess;
  int computePreemptionSupported;
  int canUseHostPointerForRegisteredMem;
  int cooperativeLaunch;
  int cooperativeMultiDeviceLaunch;
  size_t sharedMemPerBlockOptin;
  int pageableMemoryAccessUsesHostPageTables;
  int directManagedMemAccessFromHost;
  int maxBlocksPerMultiProcessor;
  int accessPolicyMaxWindowSize;
  size_t reservedSharedMemPerBlock;
};

struct cudaFuncAttributes {
  size_t sharedSizeBytes;
  size_t constSizeBytes;
  size_t localSizeBytes;
  int maxThreadsPerBlock;
  int numRegs;
  int ptxVersion;
  int binaryVersion;
  int cacheModeCA;
  int maxDynamicSharedSizeBytes;
  int preferredShmemCarveout;
};

struct cudaPointerAttributes {
  enum cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
};

// ---------------------------------------------------------------------------
// runtime core
// ---------------------------------------------------------------------------
#ifdef PL_TSAN
#define PL_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define PL_ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define PL_IGNORE_BEGIN() (AnnotateIgnoreReadsBegin(__FILE__, __LINE__), AnnotateIgnoreWritesBegin(__FILE__, __LINE__))
#define PL_IGNORE_END() (AnnotateIgnoreWritesEnd(__FILE__, __LINE__), AnnotateIgnoreReadsEnd(__FILE__, __LINE__))
#else
#define PL_LD(x) (x)
#define PL_ST(x, v) ((x) = (v))
#define PL_IGNORE_BEGIN() ((void)0)
#define PL_IGNORE_END() ((void)0)
#endif

#if defined(__x86_64__) && !defined(PL_UCONTEXT)
// void __pl_ctx_switch(void** save_sp, void* new_sp): saves the callee-saved
// registers on the current stack, stores the stack pointer in *save_sp, loads
// new_sp and restores the registers saved there.  __pl_ctx_trampoline is the
// first "return address" of a new fiber: it calls r13(r12) and never returns.
extern "C" void __pl_ctx_switch(void** save_sp, void* new_sp);
extern "C" void __pl_ctx_trampoline();
__asm__(
    ".text\n"
    ".weak __pl_ctx_switch\n"
    ".type __pl_ctx_switch,@function\n"
    "__pl_ctx_switch:\n"
    "  .cfi_startproc\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    "  .cfi_endproc\n"
    ".size __pl_ctx_switch, .-__pl_ctx_switch\n"
    ".weak __pl_ctx_trampoline\n"
    ".type __pl_ctx_trampoline,@function\n"
    "__pl_ctx_trampoline:\n"
    "  .cfi_startproc\n"
    "  .cfi_undefined rip\n"
    "  movq %r12, %rdi\n"
    "  callq *%r13\n"
    "  ud2\n"
    "  .cfi_endproc\n"
    ".size __pl_ctx_trampoline, .-__pl_ctx_trampoline\n");
#endif

namespace paralift_cuda {

enum : int { FS_NEW = 0, FS_RUN = 1, FS_BAR = 2, FS_WARP = 3, FS_DONE = 4 };
enum : int { BK_SYNC = 0, BK_COUNT = 1, BK_AND = 2, BK_OR = 3 };
enum : int {
  WK_SYNC = 0, WK_SHFL, WK_UP, WK_DOWN, WK_XOR, WK_BALLOT, WK_ANY, WK_ALL, WK_MATCH_ANY, WK_MATCH_ALL,
  WK_RADD, WK_RMIN, WK_RMAX, WK_RAND, WK_ROR, WK_RXOR, WK_RMIN_S, WK_RMAX_S, WK_ACTIVE
};
inline const char* warp_kind_name(int k) {
  static const char* names[] = {"__syncwarp", "__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                                "__ballot_sync", "__any_sync", "__all_sync", "__match_any_sync", "__match_all_sync",
                                "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                "__reduce_or_sync", "__reduce_xor_sync", "__reduce_min_sync", "__reduce_max_sync",
                                "__activemask"};
  return (k >= 0 && k < (int)(sizeof(names) / sizeof(names[0]))) ? names[k] : "warp collective";
}
inline const char* barrier_kind_name(int k) {
  static const char* names[] = {"__syncthreads", "__syncthreads_count", "__syncthreads_and", "__syncthreads_or"};
  return (k >= 0 && k < 4) ? names[k] : "barrier";
}

// ---- configuration (read once from the environment) ----
inline int cfg_threads() {
  static const int n = [] {
    const char* e = getenv("PARALIFT_CUDA_THREADS");
    if (!e || !*e) e = getenv("OMP_NUM_THREADS");
    int v = e ? atoi(e) : 0;
    if (v <= 0) {
      long h = sysconf(_SC_NPROCESSORS_ONLN);
      v = h >= 2 ? 2 : 1;
    }
    return v;
  }();
  return n;
}
inline bool cfg_reverse() {
  static const bool r = [] {
    const char* e = getenv("PARALIFT_CUDA_ORDER");
    if (!e || !*e || !strcmp(e, "forward")) return false;
    if (!strcmp(e, "reverse")) return true;
    fprintf(stderr, "paralift-cuda: unknown PARALIFT_CUDA_ORDER=%s (forward|reverse); using forward\n", e);
    return false;
  }();
  return r;
}
inline size_t page_size() {
  static const size_t p = (size_t)sysconf(_SC_PAGESIZE);
  return p;
}
inline size_t cfg_stack() {
  static const size_t s = [] {
#if defined(PL_ASAN)
    size_t v = 256 * 1024;  // ASan's stack redzones
#else
    size_t v = 64 * 1024;
#endif
    const char* e = getenv("PARALIFT_CUDA_STACK");
    if (e && *e) {
      char* end = nullptr;
      double d = strtod(e, &end);
      if (end && (*end == 'k' || *end == 'K')) d *= 1024;
      if (end && (*end == 'm' || *end == 'M')) d *= 1024 * 1024;
      if (d >= 16 * 1024) v = (size_t)d;
    }
    size_t p = page_size();
    return (v + p - 1) / p * p;
  }();
  return s;
}
inline bool cfg_hostptr_check() {
  static const bool c = [] {
    const char* e = getenv("PARALIFT_CUDA_HOSTPTR");
    return !(e && !strcmp(e, "allow"));
  }();
  return c;
}
inline int cfg_fill() {  // byte written into fresh device / shared memory, -1: none
  static const int f = [] {
    const char* e = getenv("PARALIFT_CUDA_FILL");
    if (!e || !*e) return 0xFF;
    if (!strcmp(e, "none")) return -1;
    return (int)(strtol(e, nullptr, 0) & 0xFF);
  }();
  return f;
}

[[noreturn]] inline void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] inline void fatal(const char* fmt, ...) {
  fflush(stdout);
  va_list ap;
  va_start(ap, fmt);
  fputs("paralift-cuda: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  _exit(1);
}

// ---- error state ----
inline std::atomic<int>& sticky_error() {
  static std::atomic<int> e{0};
  return e;
}
inline cudaError_t& last_error() {
  static thread_local cudaError_t e = cudaSuccess;
  return e;
}
inline cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) last_error() = e;
  return e;
}
#define PL_STICKY()                                                          \
  do {                                                                       \
    int pl_sticky_ = ::paralift_cuda::sticky_error().load();                 \
    if (pl_sticky_) return ::paralift_cuda::set_error((cudaError_t)pl_sticky_); \
  } while (0)

// ---- memory registry: what the "device" may touch ----
enum : int { MK_DEVICE = 1, MK_MANAGED = 2, MK_PINNED = 3, MK_REGISTERED = 4, MK_SYMBOL = 5 };
struct Alloc {
  size_t size;
  int kind;
};
struct RegEntry {
  uintptr_t base;
  size_t size;
  int kind;
};
struct Registry {  // sorted by base; allocations are few, lookups are binary searches
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  std::vector<RegEntry> v;
  RegEntry freed[256];  // recently freed device memory, for clearer messages
  unsigned nfreed = 0;
  size_t lower(uintptr_t a) const {  // first entry with base >= a
    size_t lo = 0, hi = v.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (v[mid].base < a) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
};
struct RegLock {
  Registry& r;
  explicit RegLock(Registry& x) : r(x) { pthread_mutex_lock(&r.m); }
  ~RegLock() { pthread_mutex_unlock(&r.m); }
};
inline Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: usable from atexit handlers
  return *r;
}
inline void reg_add(const void* p, size_t size, int kind) {
  Registry& r = registry();
  RegLock g(r);
  uintptr_t a = (uintptr_t)p;
  size_t i = r.lower(a);
  if (i < r.v.size() && r.v[i].base == a) r.v[i] = RegEntry{a, size, kind};
  else r.v.insert(r.v.begin() + (std::ptrdiff_t)i, RegEntry{a, size, kind});
}
// Removes the allocation starting exactly at p if its kind is want1 or want2.
inline bool reg_remove(const void* p, int want1 = 0, int want2 = 0, int* kind = nullptr) {
  Registry& r = registry();
  RegLock g(r);
  uintptr_t a = (uintptr_t)p;
  size_t i = r.lower(a);
  if (i >= r.v.size() || r.v[i].base != a) return false;
  if (want1 && r.v[i].kind != want1 && r.v[i].kind != want2) return false;
  if (kind) *kind = r.v[i].kind;
  r.freed[r.nfreed++ % 256] = r.v[i];
  r.v.erase(r.v.begin() + (std::ptrdiff_t)i);
  return true;
}
// Was p inside device memory that has been freed since?
inline bool reg_was_freed(const void* p) {
  Registry& r = registry();
  RegLock g(r);
  uintptr_t a = (uintptr_t)p;
  unsigned n = r.nfreed < 256 ? r.nfreed : 256;
  for (unsigned i = 0; i < n; ++i)
    if (a >= r.freed[i].base && a < r.freed[i].base + (r.freed[i].size ? r.freed[i].size : 1)) return true;
  return false;
}
// Finds the allocation holding p (one past the end counts); returns its kind, 0 if none.
inline int reg_find(const void* p, uintptr_t* base = nullptr, size_t* size = nullptr) {
  Registry& r = registry();
  RegLock g(r);
  uintptr_t a = (uintptr_t)p;
  size_t i = r.lower(a + 1);  // first entry with base > a
  if (i == 0) return 0;
  const RegEntry& e = r.v[i - 1];
  if (a > e.base + e.size) return 0;
  if (base) *base = e.base;
  if (size) *size = e.size;
  return e.kind;
}
inline void fill_fresh(void* p, size_t n) {
  int f = cfg_fill();
  if (f >= 0 && p && n) memset(p, f, n);
}

// ---- fibers ----
struct Stack {
  char* lo;     // lowest usable byte (a PROT_NONE guard page lies below it)
  size_t size;  // usable bytes
  char* map;    // mmap base
};

struct Fiber {
  void* sp;
  Stack* stack;
#ifdef PL_UCONTEXT
  ucontext_t uc;
#endif
  int state;
  unsigned lin;
  uint3 tid;
  // block barrier
  int line, kind, pred, result;
  // warp collective
  unsigned wmask;
  int wkind, wline, wp1, wp2;
  unsigned long long wval, wres;
  void* asan_fake;
  void* tsan;
  // ThreadSanitizer: the warp token this lane released at its last collective
  // and the set of tokens to acquire once the collective completed
  unsigned wtok, wtokset;
};

struct SharedSlot {
  const void* tag;
  void* ptr;
  size_t size;
};

struct Launch;

struct Block {
  const Launch* L;
  unsigned n;
  uint3 bid;
  Fiber* fibers;
  void* sched_sp;
#ifdef PL_UCONTEXT
  ucontext_t sched_uc;
#endif
  const void* sched_lo;
  size_t sched_size;
  void* tsan_sched;
  std::vector<SharedSlot> shared;
  size_t static_shared_total;
  void* dyn;
  bool warned_exited_lanes;
  // ThreadSanitizer sync tokens.  Barrier tokens alternate by generation and
  // each warp cycles through 4 tokens, so a thread resuming from a barrier or
  // collective never acquires what faster threads released after it.
  unsigned bar_gen;
  char bar_token[2], start_token, end_token;
  unsigned warp_gen[32];
  char warp_token[32][4];
};

struct Worker {
  std::vector<Stack*> stacks;  // every stack this OS thread owns
  std::vector<Stack*> free_stacks;
  std::vector<Fiber> fibers;
  Block blk;
  char altstack_done;
};

struct Tls {
  Fiber* cur;
  Block* blk;
  Worker* worker;
};
inline thread_local Tls tls;

struct Launch {
  const char* name;
  uint3 grid, block;
  size_t smem;
  void (*entry)(void*);
  void* closure;
  bool reverse;
  unsigned long long nblocks;
  std::atomic<unsigned long long> next;
  char tsan_start, tsan_end;
};

inline Worker& worker() {
  if (!tls.worker) tls.worker = new Worker();
  return *tls.worker;
}

inline Stack* stack_get(Worker& w) {
  if (!w.free_stacks.empty()) {
    Stack* s = w.free_stacks.back();
    w.free_stacks.pop_back();
    return s;
  }
  size_t sz = cfg_stack(), pg = page_size();
  char* base = (char*)mmap(nullptr, sz + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) fatal("cannot map a %zu-byte fiber stack", sz + pg);
  mprotect(base, pg, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting memory
  Stack* s = new Stack{base + pg, sz, base};
  w.stacks.push_back(s);
  return s;
}

inline void fiber_body(Block* b);
extern "C" inline void __pl_fiber_main(void* arg);

#ifndef PL_UCONTEXT
__attribute__((no_sanitize_address, no_sanitize_thread)) inline void ctx_init(Fiber& f) {
  uintptr_t top = ((uintptr_t)(f.stack->lo + f.stack->size)) & ~(uintptr_t)15;
  void** sp = (void**)(top - 72);
  sp[0] = nullptr;                                // r15
  sp[1] = nullptr;                                // r14
  sp[2] = (void*)&__pl_fiber_main;                // r13: entry
  sp[3] = (void*)&f;                              // r12: argument
  sp[4] = nullptr;                                // rbx
  sp[5] = nullptr;                                // rbp (ends frame-pointer unwinding)
  sp[6] = (void*)&__pl_ctx_trampoline;            // return address
  f.sp = sp;
}
#else
inline void __pl_uc_entry(unsigned hi, unsigned lo) {
  __pl_fiber_main((void*)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}
inline void ctx_init(Fiber& f) {
  getcontext(&f.uc);
  f.uc.uc_stack.ss_sp = f.stack->lo;
  f.uc.uc_stack.ss_size = f.stack->size;
  f.uc.uc_link = nullptr;
  uintptr_t a = (uintptr_t)&f;
  makecontext(&f.uc, (void (*)())__pl_uc_entry, 2, (unsigned)(a >> 32), (unsigned)(a & 0xffffffffu));
}
#endif

// scheduler -> fiber
inline void ctx_to_fiber(Block& b, Fiber& f) {
#ifndef PL_UCONTEXT
  void* sp = f.sp;  // read here, as the scheduler (ThreadSanitizer changes threads below)
#endif
#ifdef PL_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack->lo, f.stack->size);
#endif
#ifdef PL_TSAN
  // never synchronising: CUDA threads are ordered only by barriers and warp
  // collectives; a new fiber acquires Block::start_token instead
  __tsan_switch_to_fiber(f.tsan, 1);
#endif
#ifdef PL_UCONTEXT
  swapcontext(&b.sched_uc, &f.uc);
#else
  __pl_ctx_switch(&b.sched_sp, sp);
#endif
#ifdef PL_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

// fiber -> scheduler (the fiber will be resumed later)
inline void ctx_to_sched(Block& b, Fiber& f) {
#ifdef PL_ASAN
  __sanitizer_start_switch_fiber(&f.asan_fake, b.sched_lo, b.sched_size);
#endif
#ifdef PL_TSAN
  __tsan_switch_to_fiber(b.tsan_sched, 1 /* no sync: CUDA threads stay unordered */);
#endif
#ifdef PL_UCONTEXT
  swapcontext(&f.uc, &b.sched_uc);
#else
  __pl_ctx_switch(&f.sp, b.sched_sp);
#endif
#ifdef PL_ASAN
  __sanitizer_finish_switch_fiber(f.asan_fake, &b.sched_lo, &b.sched_size);
#endif
}



// Not instrumented: it never returns, so sanitizer bookkeeping of its frame
// (ASan redzones, TSan's shadow call stack) would pile up on reused stacks.
extern "C" __attribute__((no_sanitize_address, no_sanitize_thread)) inline void __pl_fiber_main(void* arg) {
  Fiber* f = (Fiber*)arg;
  Block* b = PL_LD(tls.blk);
#ifdef PL_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &b->sched_lo, &b->sched_size);
#endif
#ifdef PL_TSAN
  __tsan_acquire(&b->start_token);  // the launch and the block's set-up happen before the thread
#endif
  fiber_body(b);
  PL_ST(f->state, (int)FS_DONE);
#ifdef PL_TSAN
  void* sched_fiber = b->tsan_sched;  // read before the release below orders it before the next block
  __tsan_release(&b->end_token);
#endif
#ifdef PL_ASAN
  __sanitizer_start_switch_fiber(nullptr, b->sched_lo, b->sched_size);
#endif
#ifdef PL_TSAN
  __tsan_switch_to_fiber(sched_fiber, 1);
#endif
#ifdef PL_UCONTEXT
  setcontext(&b->sched_uc);
#else
  __pl_ctx_switch(&f->sp, b->sched_sp);
#endif
  __builtin_trap();
}

// ---- diagnostics ----
inline const char* kernel_name() {
  Block* b = PL_LD(tls.blk);
  return b && b->L ? b->L->name : "<host>";
}

[[noreturn]] inline void deadlock(Block& b, const char* why) {
  fflush(stdout);
  const Launch& L = *b.L;
  fprintf(stderr,
          "paralift-cuda: barrier deadlock in kernel %s: block (%u,%u,%u) of grid (%u,%u,%u), block size (%u,%u,%u): %s\n",
          L.name, b.bid.x, b.bid.y, b.bid.z, L.grid.x, L.grid.y, L.grid.z, L.block.x, L.block.y, L.block.z, why);
  // group the blocked threads by where they wait
  struct Site { int state, kind, line; unsigned count; unsigned first; };
  std::vector<Site> sites;
  unsigned exited = 0;
  for (unsigned i = 0; i < b.n; ++i) {
    Fiber& f = b.fibers[i];
    int st = PL_LD(f.state);
    if (st == FS_DONE) { ++exited; continue; }
    int kind = st == FS_BAR ? PL_LD(f.kind) : st == FS_WARP ? PL_LD(f.wkind) : -1;
    int line = st == FS_BAR ? PL_LD(f.line) : st == FS_WARP ? PL_LD(f.wline) : 0;
    bool found = false;
    for (auto& s : sites)
      if (s.state == st && s.kind == kind && s.line == line) { ++s.count; found = true; break; }
    if (!found) sites.push_back(Site{st, kind, line, 1u, i});
  }
  for (auto& s : sites) {
    const Fiber& f = b.fibers[s.first];
    const char* what = s.state == FS_BAR ? barrier_kind_name(s.kind) : s.state == FS_WARP ? warp_kind_name(s.kind) : "running";
    fprintf(stderr, "paralift-cuda:   %u thread(s) waiting at %s (line %d), first thread (%u,%u,%u)\n", s.count, what,
            s.line, f.tid.x, f.tid.y, f.tid.z);
  }
  if (exited) fprintf(stderr, "paralift-cuda:   %u thread(s) already exited\n", exited);
  fflush(stderr);
  _exit(PARALIFT_CUDA_DEADLOCK_EXIT);
}

// ---- warp collectives ----
inline bool warp_try_complete(Block& b, unsigned wbase, unsigned mask, int kind) {
  unsigned parts = 0;
  bool exited_named = false;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(mask >> l & 1u)) continue;
    unsigned idx = wbase + l;
    if (idx >= b.n) continue;  // lanes past the end of the block do not exist
    Fiber& g = b.fibers[idx];
    int st = PL_LD(g.state);
    if (st == FS_DONE) { exited_named = true; continue; }
    if (st != FS_WARP || PL_LD(g.wmask) != mask || PL_LD(g.wkind) != kind) return false;
    parts |= 1u << l;
  }
  if (exited_named && !PL_LD(b.warned_exited_lanes)) {
    PL_ST(b.warned_exited_lanes, true);
    fprintf(stderr,
            "paralift-cuda: warning: kernel %s: a warp collective's mask names lanes that already exited "
            "(undefined behaviour on a GPU)\n",
            b.L->name);
  }
  unsigned long long vals[32];
  int p1[32], p2[32];
  unsigned tokset = 0;  // tokens the participants released (ThreadSanitizer)
  for (unsigned l = 0; l < 32; ++l)
    if (parts >> l & 1u) tokset |= 1u << PL_LD(b.fibers[wbase + l].wtok);
  PL_ST(b.warp_gen[wbase / 32u], PL_LD(b.warp_gen[wbase / 32u]) + 1u);
  for (unsigned l = 0; l < 32; ++l)
    if (parts >> l & 1u) {
      Fiber& g = b.fibers[wbase + l];
      vals[l] = PL_LD(g.wval);
      p1[l] = PL_LD(g.wp1);
      p2[l] = PL_LD(g.wp2);
    }
  unsigned long long common = 0;
  switch (kind) {
    case WK_BALLOT: case WK_ANY: case WK_ALL: {
      unsigned bal = 0;
      for (unsigned l = 0; l < 32; ++l) if ((parts >> l & 1u) && vals[l]) bal |= 1u << l;
      common = kind == WK_BALLOT ? bal : kind == WK_ANY ? (bal != 0) : (bal == parts);
      break;
    }
    case WK_MATCH_ALL: {
      bool all = true;
      unsigned first = __builtin_ctz(parts);
      for (unsigned l = 0; l < 32; ++l) if ((parts >> l & 1u) && vals[l] != vals[first]) all = false;
      common = all ? parts : 0;
      break;
    }
    case WK_RADD: case WK_RMIN: case WK_RMAX: case WK_RAND: case WK_ROR: case WK_RXOR: case WK_RMIN_S: case WK_RMAX_S: {
      bool init = false;
      unsigned acc = 0;
      for (unsigned l = 0; l < 32; ++l) {
        if (!(parts >> l & 1u)) continue;
        unsigned v = (unsigned)vals[l];
        if (!init) { acc = v; init = true; continue; }
        switch (kind) {
          case WK_RADD: acc += v; break;
          case WK_RMIN: acc = v < acc ? v : acc; break;
          case WK_RMAX: acc = v > acc ? v : acc; break;
          case WK_RMIN_S: acc = (int)v < (int)acc ? v : acc; break;
          case WK_RMAX_S: acc = (int)v > (int)acc ? v : acc; break;
          case WK_RAND: acc &= v; break;
          case WK_ROR: acc |= v; break;
          default: acc ^= v; break;
        }
      }
      common = acc;
      break;
    }
    default: break;
  }
  for (unsigned l = 0; l < 32; ++l) {
    if (!(parts >> l & 1u)) continue;
    unsigned long long r = common;
    int w = p2[l] <= 0 || p2[l] > 32 ? 32 : p2[l];
    unsigned seg = l / (unsigned)w * (unsigned)w;
    switch (kind) {
      case WK_SHFL: {
        unsigned src = seg + ((unsigned)p1[l] % (unsigned)w);
        r = (parts >> src & 1u) ? vals[src] : vals[l];
        break;
      }
      case WK_UP: {
        int s = (int)(l - seg) - p1[l];
        unsigned src = l - (unsigned)p1[l];
        r = (s >= 0 && (parts >> src & 1u)) ? vals[src] : vals[l];
        break;
      }
      case WK_DOWN: {
        unsigned s = (l - seg) + (unsigned)p1[l];
        unsigned src = l + (unsigned)p1[l];
        r = (s < (unsigned)w && src < 32 && (parts >> src & 1u)) ? vals[src] : vals[l];
        break;
      }
      case WK_XOR: {
        unsigned src = l ^ ((unsigned)p1[l] & 31u);
        r = (src <= seg + (unsigned)w - 1 && (parts >> src & 1u)) ? vals[src] : vals[l];
        break;
      }
      case WK_MATCH_ANY: {
        unsigned m = 0;
        for (unsigned k = 0; k < 32; ++k) if ((parts >> k & 1u) && vals[k] == vals[l]) m |= 1u << k;
        r = m;
        break;
      }
      default: break;
    }
    Fiber& g = b.fibers[wbase + l];
    PL_ST(g.wres, r);
    PL_ST(g.wtokset, tokset);
    PL_ST(g.state, (int)FS_RUN);
  }
  return true;
}

inline unsigned long long warp_op(int kind, unsigned mask, unsigned long long val, int p1, int p2, int line) {
  Fiber* f = PL_LD(tls.cur);
  Block* b = PL_LD(tls.blk);
  if (!f) fatal("%s called outside a kernel", warp_kind_name(kind));
  unsigned lane = f->lin & 31u, wbase = f->lin & ~31u;
  mask |= 1u << lane;
  PL_ST(f->wmask, mask);
  PL_ST(f->wkind, kind);
  PL_ST(f->wline, line);
  PL_ST(f->wp1, p1);
  PL_ST(f->wp2, p2);
  PL_ST(f->wval, val);
#ifdef PL_TSAN
  // what each lane did before the collective happens before what all do after it
  unsigned warp = wbase / 32u, tok = PL_LD(b->warp_gen[warp]) & 3u;
  PL_ST(f->wtok, tok);
  __tsan_release(&b->warp_token[warp][tok]);
#endif
  PL_ST(f->state, (int)FS_WARP);
  if (!warp_try_complete(*b, wbase, mask, kind)) ctx_to_sched(*b, *f);
#ifdef PL_TSAN
  unsigned set = PL_LD(f->wtokset);
  for (unsigned t = 0; t < 4; ++t)
    if (set >> t & 1u) __tsan_acquire(&b->warp_token[warp][t]);
#endif
  return PL_LD(f->wres);
}

inline int block_barrier(int kind, int pred, int line) {
  Fiber* f = PL_LD(tls.cur);
  Block* b = PL_LD(tls.blk);
  if (!f) fatal("%s called outside a kernel", barrier_kind_name(kind));
  PL_ST(f->kind, kind);
  PL_ST(f->line, line);
  PL_ST(f->pred, pred ? 1 : 0);
#ifdef PL_TSAN
  // tokens alternate by generation, so a thread resuming from this barrier
  // cannot pick up what faster threads did after it
  unsigned par = PL_LD(b->bar_gen) & 1u;
  __tsan_release(&b->bar_token[par]);
#endif
  PL_ST(f->state, (int)FS_BAR);
  ctx_to_sched(*b, *f);
#ifdef PL_TSAN
  __tsan_acquire(&b->bar_token[par]);
#endif
  return PL_LD(f->result);
}

inline void fiber_yield() {  // __nanosleep: let the other threads of the block run
  Fiber* f = PL_LD(tls.cur);
  if (!f) return;
  ctx_to_sched(*PL_LD(tls.blk), *f);
}

// __activemask(): the lanes of the warp that are at this same call site.  The
// thread waits until no thread of the block can run, then every lane waiting
// at an __activemask() learns which lanes of its warp reached the same line.
// So a lane that took another branch (or exited) is not in the mask, as on a
// GPU where only the converged lanes are active.
inline unsigned active_mask(int line) {
  Fiber* f = PL_LD(tls.cur);
  if (!f) return 1u;
  Block* b = PL_LD(tls.blk);
  PL_ST(f->wkind, (int)WK_ACTIVE);
  PL_ST(f->wline, line);
  PL_ST(f->wmask, 0u);
  PL_ST(f->state, (int)FS_WARP);
  ctx_to_sched(*b, *f);
  return (unsigned)PL_LD(f->wres);
}
// Resolves waiting __activemask() calls; returns whether any thread can run again.
inline bool resolve_active_masks(Block& b) {
  bool any = false;
  for (unsigned wbase = 0; wbase < b.n; wbase += 32) {
    for (unsigned l = 0; l < 32 && wbase + l < b.n; ++l) {
      Fiber& f = b.fibers[wbase + l];
      if (PL_LD(f.state) != FS_WARP || PL_LD(f.wkind) != WK_ACTIVE || PL_LD(f.wmask) != 0u) continue;
      int line = PL_LD(f.wline);
      unsigned m = 0;
      for (unsigned k = 0; k < 32 && wbase + k < b.n; ++k) {
        Fiber& g = b.fibers[wbase + k];
        if (PL_LD(g.state) == FS_WARP && PL_LD(g.wkind) == WK_ACTIVE && PL_LD(g.wline) == line) m |= 1u << k;
      }
      for (unsigned k = 0; k < 32; ++k)
        if (m >> k & 1u) {
          Fiber& g = b.fibers[wbase + k];
          PL_ST(g.wres, (unsigned long long)m);
          PL_ST(g.wmask, m);  // marks it resolved
          PL_ST(g.state, (int)FS_RUN);
        }
      any = true;
    }
  }
  return any;
}

// ---- shared memory ----
inline void* alloc_shared(size_t size, size_t align) {
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = malloc(size ? size : 1);
  } else if (posix_memalign(&p, align, size ? size : 1) != 0) {
    p = nullptr;
  }
  if (!p) fatal("out of memory allocating %zu bytes of shared memory", size);
  fill_fresh(p, size);
  return p;
}

inline void* static_shared(const void* tag, size_t size, size_t align) {
  Block* b = PL_LD(tls.blk);
  if (!b) fatal("__shared__ variable used outside a kernel");
  void* p = nullptr;
  PL_IGNORE_BEGIN();
  for (auto& s : b->shared)
    if (s.tag == tag) { p = s.ptr; break; }
  bool fresh = false;
  if (!p) {
    b->static_shared_total += size;
    if (b->static_shared_total > 48 * 1024)
      fatal("kernel %s uses %zu bytes of static __shared__ memory (more than the 48 KiB a block may have)",
            b->L ? b->L->name : "?", b->static_shared_total);
    p = alloc_shared(size, align);
    b->shared.push_back(SharedSlot{tag, p, size});
    fresh = true;
  }
  PL_IGNORE_END();
#ifdef PL_TSAN
  if (fresh) __tsan_release(p);
  else __tsan_acquire(p);
#endif
  (void)fresh;
  return p;
}
inline void* dynamic_shared() {
  Block* b = PL_LD(tls.blk);
  if (!b) fatal("extern __shared__ array used outside a kernel");
  return b->dyn;
}

// ---- the block scheduler ----
inline void fiber_start(Worker& w, Block& b, Fiber& f) {
  (void)b;
#ifdef PL_TSAN
  // Under ThreadSanitizer a fiber slot keeps its stack and its TSan fiber for
  // good: creating TSan fibers is expensive, and a stack used by one TSan
  // fiber only never shows false races.  Blocks run one after another on an
  // OS thread and are ordered through Block::end_token.
  if (!f.stack) f.stack = stack_get(w);
  if (!f.tsan) f.tsan = __tsan_create_fiber(0);
#else
  f.stack = stack_get(w);
#endif
  f.asan_fake = nullptr;
  ctx_init(f);
  PL_ST(f.state, (int)FS_RUN);
}

// The built-in variables are written without ThreadSanitizer instrumentation:
// only CUDA threads read them, so TSan sees no conflicting accesses.
__attribute__((noinline, no_sanitize_thread)) inline void set_thread_index(uint3 t) { ::threadIdx = t; }
__attribute__((noinline, no_sanitize_thread)) inline void set_block(uint3 b, uint3 bdim, uint3 gdim) {
  ::blockIdx = b;
  ::blockDim = dim3(bdim);
  ::gridDim = dim3(gdim);
}

inline void fiber_resume(Block& b, Fiber& f) {
  PL_ST(tls.cur, (Fiber*)(&f));
  set_thread_index(f.tid);
  ctx_to_fiber(b, f);
  PL_ST(tls.cur, (Fiber*)(nullptr));
}

inline void fiber_finished(Worker& w, Fiber& f) {
#ifndef PL_TSAN
  w.free_stacks.push_back(f.stack);  // the next thread of the block starts on it
  f.stack = nullptr;
#else
  (void)w; (void)f;
#endif
}

inline void release_barrier(Block& b) {
  int kind = -1, line = 0;
  unsigned count = 0, live = 0;
  for (unsigned i = 0; i < b.n; ++i) {
    Fiber& f = b.fibers[i];
    int st = PL_LD(f.state);
    if (st == FS_DONE) continue;
    ++live;
    if (st != FS_BAR) {
      char why[160];
      snprintf(why, sizeof why, "threads wait at a block barrier while others wait at a warp collective");
      deadlock(b, why);
    }
    int k = PL_LD(f.kind), l = PL_LD(f.line);
    if (kind < 0) { kind = k; line = l; }
    else if (k != kind || l != line) deadlock(b, "threads wait at different barriers");
    count += (unsigned)PL_LD(f.pred);
  }
  int result = 0;
  switch (kind) {
    case BK_COUNT: result = (int)count; break;
    case BK_AND: result = count == live; break;
    case BK_OR: result = count != 0; break;
    default: break;
  }
  PL_ST(b.bar_gen, PL_LD(b.bar_gen) + 1u);
  for (unsigned i = 0; i < b.n; ++i) {
    Fiber& f = b.fibers[i];
    if (PL_LD(f.state) == FS_BAR) {
      PL_ST(f.result, result);
      PL_ST(f.state, (int)FS_RUN);
    }
  }
}

inline void segv_handler(int sig, siginfo_t* si, void*);

inline void worker_prepare(Worker& w) {
#if !defined(PL_ASAN) && !defined(PL_TSAN)
  if (!w.altstack_done) {
    w.altstack_done = 1;
    // an alternate signal stack so that a fiber stack overflow can be reported
    stack_t ss;
    ss.ss_size = 64 * 1024;
    ss.ss_sp = malloc(ss.ss_size);
    ss.ss_flags = 0;
    if (ss.ss_sp) sigaltstack(&ss, nullptr);
  }
#else
  (void)w;
#endif
}

inline void run_block(Worker& w, const Launch& L, uint3 bid) {
  Block& b = w.blk;
  unsigned n = L.block.x * L.block.y * L.block.z;
  if (w.fibers.size() < n) w.fibers.resize(n);
  b.L = &L;
  b.n = n;
  b.bid = bid;
  b.fibers = w.fibers.data();
  b.shared.clear();
  b.static_shared_total = 0;
  PL_ST(b.warned_exited_lanes, false);
  // exact size: with no dynamic shared memory any access is an overflow for ASan
  b.dyn = L.smem ? alloc_shared(L.smem, 16) : malloc(0);
#ifdef PL_TSAN
  if (!b.tsan_sched) b.tsan_sched = __tsan_get_current_fiber();  // this OS thread's own context
#endif
  set_block(bid, L.block, L.grid);
  PL_ST(tls.blk, (Block*)(&b));
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    PL_ST(f.state, (int)FS_NEW);
    f.lin = i;
    f.tid = uint3{i % L.block.x, (i / L.block.x) % L.block.y, i / (L.block.x * L.block.y)};
#ifndef PL_TSAN
    f.stack = nullptr;
#endif
    PL_ST(f.wres, 0ull);
    PL_ST(f.result, 0);
  }
#ifdef PL_TSAN
  __tsan_release(&b.start_token);
#endif
  unsigned live = n;
  const bool rev = L.reverse;
  for (;;) {
    for (unsigned k = 0; k < n; ++k) {
      unsigned i = rev ? n - 1 - k : k;
      Fiber& f = b.fibers[i];
      int st = PL_LD(f.state);
      if (st == FS_NEW) fiber_start(w, b, f);
      else if (st != FS_RUN) continue;
      fiber_resume(b, f);
      if (PL_LD(f.state) == FS_DONE) {
        fiber_finished(w, f);
        --live;
        // lanes of this warp waiting at a collective may now be complete
        unsigned wbase = i & ~31u;
        for (unsigned l = 0; l < 32 && wbase + l < n; ++l) {
          Fiber& g = b.fibers[wbase + l];
          if (PL_LD(g.state) == FS_WARP && PL_LD(g.wkind) != WK_ACTIVE)
            warp_try_complete(b, wbase, PL_LD(g.wmask), PL_LD(g.wkind));
        }
      }
    }
    if (live == 0) break;
    bool runnable = false, all_bar = true;
    for (unsigned i = 0; i < n && !runnable; ++i) {
      int st = PL_LD(b.fibers[i].state);
      if (st == FS_RUN) runnable = true;
      else if (st == FS_WARP) all_bar = false;
    }
    if (runnable) continue;
    if (!all_bar && resolve_active_masks(b)) continue;
    if (!all_bar) {
      bool any_bar = false;
      for (unsigned i = 0; i < n; ++i) if (PL_LD(b.fibers[i].state) == FS_BAR) any_bar = true;
      deadlock(b, any_bar ? "threads wait at a block barrier while others wait at a warp collective"
                          : "a warp collective can never complete (lanes wait at different collectives or with different masks)");
    }
    release_barrier(b);
  }
#ifdef PL_TSAN
  // everything the block did happens before what this OS thread does next
  __tsan_acquire(&b.end_token);
#endif
  for (auto& s : b.shared) free(s.ptr);
  b.shared.clear();
  free(b.dyn);
  b.dyn = nullptr;
  PL_ST(tls.blk, (Block*)(nullptr));
  PL_ST(tls.cur, (Fiber*)(nullptr));
}

// slot/nslots >= 0: this OS thread runs blocks slot, slot + nslots, ... (under
// ThreadSanitizer: neighbouring blocks always on different OS threads, so on
// different TSan fibers; with a shared counter one thread could take every
// block of a short grid before the other woke up, and a plain update from
// thread 0 of each block would be ordered by the fiber they share).
// Otherwise blocks are taken from a shared counter.
inline void grid_worker(Launch& L, int slot = -1, int nslots = 0) {
#ifdef PL_TSAN
  __tsan_acquire(&L.tsan_start);
#endif
  Worker& w = worker();
  worker_prepare(w);
  const unsigned long long gx = L.grid.x, gxy = (unsigned long long)L.grid.x * L.grid.y;
  for (unsigned long long step = 0;; ++step) {
    unsigned long long k = slot >= 0 ? (unsigned long long)slot + step * (unsigned long long)nslots
                                     : L.next.fetch_add(1, std::memory_order_relaxed);
    if (k >= L.nblocks) break;
    unsigned long long lin = L.reverse ? L.nblocks - 1 - k : k;
    uint3 bid{(unsigned)(lin % gx), (unsigned)((lin / gx) % L.grid.y), (unsigned)(lin / gxy)};
    run_block(w, L, bid);
  }
#ifdef PL_TSAN
  __tsan_release(&L.tsan_end);
#endif
}

inline size_t& max_dynamic_smem() {
  static size_t m = 48 * 1024;
  return m;
}

inline void install_segv_handler();

// The helper OS threads of a grid live as long as the process and sleep on a
// condition variable between launches.  Under ThreadSanitizer a Worker's
// fibers are TSan fibers created once per OS thread and never freed (see
// fiber_start), so a fresh thread per launch created a fresh set per launch:
// ~0.9 MB of TSan state per fiber, ~230 MB and 0.1 s of page faults per
// launch, 4 GiB after a few dozen launches.  Otherwise an OpenMP team did
// this, but libgomp's idle threads spin between parallel regions: a third of
// an emulated program's CPU time went to spinning while the host code ran.
// Launches stay ordered: the pool's mutex and condition variables (and,
// under TSan, the tsan_start/tsan_end annotations) order a launch before and
// after its blocks.
struct GridPool {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t go = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
  Launch* job = nullptr;
  unsigned long long gen = 0;
  int want = 0, pending = 0, started = 0;
  bool busy = false;  // a grid is running on the helpers
};
inline GridPool& grid_pool() {
  static GridPool* p = [] {
    // never destroyed: helpers may still wait on it at exit. A fork()ed child
    // has none of the helpers (and may hold a copy of a locked mutex): its
    // first grid starts its own.
    pthread_atfork(nullptr, nullptr, [] {
      GridPool& c = grid_pool();
      pthread_mutex_init(&c.m, nullptr);
      pthread_cond_init(&c.go, nullptr);
      pthread_cond_init(&c.done, nullptr);
      c.job = nullptr;
      c.want = c.pending = c.started = 0;
      c.busy = false;
    });
    return new GridPool();
  }();
  return *p;
}
// Under TSan blocks go round-robin to the threads (see grid_worker); else
// they are taken from the launch's shared counter (blocks differ in cost).
#ifdef PL_TSAN
constexpr bool kRoundRobin = true;
#else
constexpr bool kRoundRobin = false;
#endif
inline void* grid_helper(void* arg) {
  GridPool& P = grid_pool();
  const int index = (int)(intptr_t)arg;
  unsigned long long seen = 0;
  pthread_mutex_lock(&P.m);
  for (;;) {
    while (P.gen == seen) pthread_cond_wait(&P.go, &P.m);
    seen = P.gen;
    if (index >= P.want) continue;
    Launch* L = P.job;
    const int nslots = P.want + 1;
    pthread_mutex_unlock(&P.m);
    if (kRoundRobin) grid_worker(*L, index + 1, nslots);
    else grid_worker(*L);
    pthread_mutex_lock(&P.m);
    if (--P.pending == 0) pthread_cond_signal(&P.done);
  }
  return nullptr;
}
inline void run_with_helpers(Launch& L, int helpers) {
  GridPool& P = grid_pool();
  pthread_mutex_lock(&P.m);
  if (P.busy) {
    // another host thread's grid has the helpers (host code launching from
    // several threads at once): this grid runs on its own thread
    pthread_mutex_unlock(&P.m);
    grid_worker(L);
    return;
  }
  P.busy = true;
  for (; P.started < helpers; ++P.started) {
    pthread_t t;
    if (pthread_create(&t, nullptr, grid_helper, (void*)(intptr_t)P.started) != 0) fatal("cannot start a grid thread");
    pthread_detach(t);
  }
  P.job = &L;
  P.want = helpers;
  P.pending = helpers;
  ++P.gen;
  pthread_cond_broadcast(&P.go);
  pthread_mutex_unlock(&P.m);
  if (kRoundRobin) grid_worker(L, 0, helpers + 1);
  else grid_worker(L);
  pthread_mutex_lock(&P.m);
  while (P.pending > 0) pthread_cond_wait(&P.done, &P.m);
  P.job = nullptr;
  P.busy = false;
  pthread_mutex_unlock(&P.m);
}

inline void run_grid(Launch& L) {
  install_segv_handler();
  int nt = cfg_threads();
  if ((unsigned long long)nt > L.nblocks) nt = (int)L.nblocks;
#ifdef PL_TSAN
  __tsan_release(&L.tsan_start);
#endif
  if (nt <= 1) grid_worker(L);
  else run_with_helpers(L, nt - 1);
#ifdef PL_TSAN
  __tsan_acquire(&L.tsan_end);
#endif
}

template <class C>
void invoke_closure(void* c) {
  (*static_cast<C*>(c))();
}

inline void fiber_body(Block* b) { b->L->entry(b->L->closure); }

// ---- fault reporting (not under sanitizers, which have their own) ----
inline void segv_handler(int sig, siginfo_t* si, void*) {
  Block* b = PL_LD(tls.blk);
  if (b && b->L) {
    char msg[512];
    const char* what = sig == SIGSEGV ? "segmentation fault (illegal memory access)"
                       : sig == SIGBUS ? "bus error (misaligned or illegal access)"
                                       : "floating-point exception";
    Fiber* f = PL_LD(tls.cur);
    uintptr_t a = (uintptr_t)si->si_addr;
    bool overflow = false;
    if (f && f->stack) {
      uintptr_t guard = (uintptr_t)f->stack->map;
      overflow = a >= guard && a < (uintptr_t)f->stack->lo;
    }
    int len = snprintf(msg, sizeof msg,
                       "paralift-cuda: %s in kernel %s, block (%u,%u,%u), thread (%u,%u,%u), address %p%s\n",
                       overflow ? "fiber stack overflow" : what, b->L->name, b->bid.x, b->bid.y, b->bid.z,
                       f ? f->tid.x : 0u, f ? f->tid.y : 0u, f ? f->tid.z : 0u, si->si_addr,
                       overflow ? " (raise PARALIFT_CUDA_STACK, e.g. PARALIFT_CUDA_STACK=1M)" : "");
    if (len > 0) {
      ssize_t wr = write(2, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1);
      (void)wr;
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}
#ifdef PL_ASAN
// Appended to AddressSanitizer's report: where in the grid it happened.
inline void asan_report_context(const char*) {
  Block* b = PL_LD(tls.blk);
  Fiber* f = PL_LD(tls.cur);
  if (b && b->L)
    fprintf(stderr, "paralift-cuda: the error above happened in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)\n",
            b->L->name, b->bid.x, b->bid.y, b->bid.z, f ? f->tid.x : 0u, f ? f->tid.y : 0u, f ? f->tid.z : 0u);
}
#endif

inline void install_segv_handler() {
#ifdef PL_ASAN
  static std::atomic<bool> asan_once{false};
  if (!asan_once.exchange(true)) __asan_set_error_report_callback(asan_report_context);
#endif
#if !defined(PL_ASAN) && !defined(PL_TSAN)
  static std::atomic<bool> once{false};
  if (!once.exchange(true)) {
    struct sigaction old;
    bool own = sigaction(SIGSEGV, nullptr, &old) == 0 && old.sa_handler != SIG_DFL;  // the program has its own
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (!own) {
      sigaction(SIGSEGV, &sa, nullptr);
      sigaction(SIGBUS, &sa, nullptr);
      sigaction(SIGFPE, &sa, nullptr);
    }
  }
#endif
}

// ---- kernel launch ----
template <class T>
inline bool check_arg(const char* name, int idx, const T& a) {
  if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>) {
    if (a != nullptr && cfg_hostptr_check() && !reg_find((const void*)a)) {
      fflush(stdout);
      if (reg_was_freed((const void*)a))
        fprintf(stderr,
                "paralift-cuda: kernel %s: argument %d (%p) points into device memory that was freed with "
                "cudaFree; on a GPU the kernel would fault with an illegal memory access\n",
                name, idx, (const void*)a);
      else
        fprintf(stderr,
                "paralift-cuda: kernel %s: argument %d (%p) is not device memory (not from cudaMalloc, "
                "cudaMallocManaged, cudaHostAlloc or cudaGetSymbolAddress); on a GPU the kernel would fault "
                "with an illegal memory access\n",
                name, idx, (const void*)a);
      return false;
    }
  }
  (void)name; (void)idx; (void)a;
  return true;
}

inline cudaError_t check_config(const char* name, dim3 g, dim3 b, size_t smem) {
  unsigned long long nt = (unsigned long long)b.x * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 || nt > 1024 || g.x == 0 ||
      g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    if (getenv("PARALIFT_CUDA_VERBOSE"))
      fprintf(stderr, "paralift-cuda: kernel %s: invalid launch configuration grid (%u,%u,%u) block (%u,%u,%u)\n",
              name, g.x, g.y, g.z, b.x, b.y, b.z);
    // what CUDA 13 on an H200 returned for a 2048-thread block and a 70000-block grid.y
    // (CUDA 12 and earlier returned cudaErrorInvalidConfiguration)
    return cudaErrorInvalidValue;
  }
  if (smem > max_dynamic_smem()) return cudaErrorInvalidValue;
  return cudaSuccess;
}

template <class C>
bool invoke_check(void* c) {
  return (*static_cast<C*>(c))();
}

// The launch's one non-template part: a launch site instantiates only two
// small closures and launch_args (std::tuple and std::apply made ~40
// functions per site: a third of a batch of emulated kernels' ASan build).
inline cudaError_t launch_closure(const char* name, dim3 grid, dim3 block, size_t smem, bool (*check)(void*),
                                  void* check_closure, void (*entry)(void*), void* closure) {
  if (int s = sticky_error().load()) return set_error((cudaError_t)s);
  if (PL_LD(tls.blk)) fatal("kernel %s launched from device code: unsupported on CPU emulation: dynamic parallelism", name);
  cudaError_t e = check_config(name, grid, block, smem);
  if (e != cudaSuccess) return set_error(e);
  if (!check(check_closure)) {
    sticky_error().store(cudaErrorIllegalAddress);
    return set_error(cudaErrorIllegalAddress);
  }
  Launch L;
  L.name = name;
  L.grid = grid;
  L.block = block;
  L.smem = smem;
  L.entry = entry;
  L.closure = closure;
  L.reverse = cfg_reverse();
  L.nblocks = (unsigned long long)grid.x * grid.y * grid.z;
  L.next.store(0);
  run_grid(L);
  return cudaSuccess;
}

// The kernel's parameters are `args`: copies made at the launch (arrays and
// functions decayed to pointers), as a GPU copies them.
template <class Body, class... A>
inline cudaError_t launch_args(const char* name, dim3 grid, dim3 block, size_t smem, Body& body, A... args) {
  auto check = [&]() {
    int i = 0;
    bool ok = true;
    ((ok = check_arg(name, i++, args) && ok), ...);
    (void)i;
    return ok;
  };
  auto call = [&]() { body(args...); };
  return launch_closure(name, grid, block, smem, &invoke_check<decltype(check)>, &check, &invoke_closure<decltype(call)>,
                        &call);
}

}  // namespace paralift_cuda

// Called by rewritten launches:  k<<<g, b, s, st>>>(a...)  ->
//   __pl_launch("k", g, b, s, st, [&](auto&... p) { k(p...); }, a...)
template <class Body, class... A>
inline void __pl_launch(const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t stream, Body&& body,
                        A&&... args) {
  (void)stream;
  ::paralift_cuda::launch_args(name, grid, block, smem, body, std::forward<A>(args)...);
}

// ---------------------------------------------------------------------------
// device-side builtins
// ---------------------------------------------------------------------------
static constexpr int warpSize = 32;

#define __syncthreads() ((void)::paralift_cuda::block_barrier(::paralift_cuda::BK_SYNC, 1, __LINE__))
#define __syncthreads_count(p) ::paralift_cuda::block_barrier(::paralift_cuda::BK_COUNT, (p) ? 1 : 0, __LINE__)
#define __syncthreads_and(p) ::paralift_cuda::block_barrier(::paralift_cuda::BK_AND, (p) ? 1 : 0, __LINE__)
#define __syncthreads_or(p) ::paralift_cuda::block_barrier(::paralift_cuda::BK_OR, (p) ? 1 : 0, __LINE__)

namespace paralift_cuda {
template <class T>
inline unsigned long long to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffles move values of at most 8 bytes");
  unsigned long long r = 0;
  memcpy(&r, &v, sizeof(T));
  return r;
}
template <class T>
inline T from_bits(unsigned long long b) {
  T v;
  memcpy(&v, &b, sizeof(T));
  return v;
}
template <class T>
inline T shfl(int kind, int line, unsigned mask, T v, int p, int width) {
  return from_bits<T>(warp_op(kind, mask, to_bits(v), p, width, line));
}
}  // namespace paralift_cuda

#define __syncwarp(...) ((void)::paralift_cuda::warp_op(::paralift_cuda::WK_SYNC, ::paralift_cuda::pl_mask_or_all(__VA_ARGS__), 0, 0, 0, __LINE__))
namespace paralift_cuda {
inline unsigned pl_mask_or_all() { return 0xffffffffu; }
inline unsigned pl_mask_or_all(unsigned m) { return m; }
inline int pl_width(int w = 32) { return w; }
}  // namespace paralift_cuda
#define __shfl_sync(m, v, ...) ::paralift_cuda::shfl_idx_(__LINE__, m, v, __VA_ARGS__)
#define __shfl_up_sync(m, v, ...) ::paralift_cuda::shfl_up_(__LINE__, m, v, __VA_ARGS__)
#define __shfl_down_sync(m, v, ...) ::paralift_cuda::shfl_down_(__LINE__, m, v, __VA_ARGS__)
#define __shfl_xor_sync(m, v, ...) ::paralift_cuda::shfl_xor_(__LINE__, m, v, __VA_ARGS__)
#define __shfl(v, ...) ::paralift_cuda::shfl_idx_(__LINE__, 0xffffffffu, v, __VA_ARGS__)
#define __shfl_up(v, ...) ::paralift_cuda::shfl_up_(__LINE__, 0xffffffffu, v, __VA_ARGS__)
#define __shfl_down(v, ...) ::paralift_cuda::shfl_down_(__LINE__, 0xffffffffu, v, __VA_ARGS__)
#define __shfl_xor(v, ...) ::paralift_cuda::shfl_xor_(__LINE__, 0xffffffffu, v, __VA_ARGS__)
#define __ballot_sync(m, p) ((unsigned)::paralift_cuda::warp_op(::paralift_cuda::WK_BALLOT, (m), (p) ? 1 : 0, 0, 0, __LINE__))
#define __any_sync(m, p) ((int)::paralift_cuda::warp_op(::paralift_cuda::WK_ANY, (m), (p) ? 1 : 0, 0, 0, __LINE__))
#define __all_sync(m, p) ((int)::paralift_cuda::warp_op(::paralift_cuda::WK_ALL, (m), (p) ? 1 : 0, 0, 0, __LINE__))
#define __ballot(p) __ballot_sync(0xffffffffu, p)
#define __any(p) __any_sync(0xffffffffu, p)
#define __all(p) __all_sync(0xffffffffu, p)
#define __match_any_sync(m, v) ((unsigned)::paralift_cuda::warp_op(::paralift_cuda::WK_MATCH_ANY, (m), ::paralift_cuda::to_bits(v), 0, 0, __LINE__))
#define __match_all_sync(m, v, pred) ::paralift_cuda::match_all_(__LINE__, (m), ::paralift_cuda::to_bits(v), (pred))
#define __reduce_add_sync(m, v) ::paralift_cuda::reduce_(__LINE__, ::paralift_cuda::WK_RADD, (m), (v))
#define __reduce_min_sync(m, v) ::paralift_cuda::reduce_minmax_(__LINE__, false, (m), (v))
#define __reduce_max_sync(m, v) ::paralift_cuda::reduce_minmax_(__LINE__, true, (m), (v))
#define __reduce_and_sync(m, v) ::paralift_cuda::reduce_(__LINE__, ::paralift_cuda::WK_RAND, (m), (v))
#define __reduce_or_sync(m, v) ::paralift_cuda::reduce_(__LINE__, ::paralift_cuda::WK_ROR, (m), (v))
#define __reduce_xor_sync(m, v) ::paralift_cuda::reduce_(__LINE__, ::paralift_cuda::WK_RXOR, (m), (v))

namespace paralift_cuda {
template <class T> inline T shfl_idx_(int line, unsigned m, T v, int src, int width = 32) { return shfl(WK_SHFL, line, m, v, src, width); }
template <class T> inline T shfl_up_(int line, unsigned m, T v, unsigned d, int width = 32) { return shfl(WK_UP, line, m, v, (int)d, width); }
template <class T> inline T shfl_down_(int line, unsigned m, T v, unsigned d, int width = 32) { return shfl(WK_DOWN, line, m, v, (int)d, width); }
template <class T> inline T shfl_xor_(int line, unsigned m, T v, int lm, int width = 32) { return shfl(WK_XOR, line, m, v, lm, width); }
inline unsigned match_all_(int line, unsigned m, unsigned long long v, int* pred) {
  unsigned r = (unsigned)warp_op(WK_MATCH_ALL, m, v, 0, 0, line);
  if (pred) *pred = r != 0;
  return r;
}
template <class T> inline T reduce_(int line, int kind, unsigned m, T v) {
  static_assert(std::is_integral_v<T> && sizeof(T) == 4, "__reduce_*_sync works on 32-bit integers");
  return (T)(unsigned)warp_op(kind, m, (unsigned)v, 0, 0, line);
}
template <class T> inline T reduce_minmax_(int line, bool mx, unsigned m, T v) {
  static_assert(std::is_integral_v<T> && sizeof(T) == 4, "__reduce_*_sync works on 32-bit integers");
  int kind = std::is_signed_v<T> ? (mx ? WK_RMAX_S : WK_RMIN_S) : (mx ? WK_RMAX : WK_RMIN);
  return (T)(unsigned)warp_op(kind, m, (unsigned)v, 0, 0, line);
}
}  // namespace paralift_cuda
#define __activemask() ::paralift_cuda::active_mask(__LINE__)
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __nanosleep(unsigned) { ::paralift_cuda::fiber_yield(); }
inline long long clock64() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
inline unsigned long long __globaltimer() { return (unsigned long long)clock64(); }
[[noreturn]] inline void __trap() {
  fflush(stdout);
  fprintf(stderr, "paralift-cuda: __trap() in kernel %s\n", ::paralift_cuda::kernel_name());
  abort();
}
[[noreturn]] inline void __brkpt() { __trap(); }

// ---- atomics (relaxed, like CUDA's; correct across OS threads) ----
#define PL_ATOMIC_INT(T)                                                                                  \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }                    \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }                  \
  inline T atomicMin(T* a, T v) {                                                                        \
    T o = __atomic_load_n(a, __ATOMIC_RELAXED);                                                          \
    while (v < o && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} \
    return o;                                                                                            \
  }                                                                                                      \
  inline T atomicMax(T* a, T v) {                                                                        \
    T o = __atomic_load_n(a, __ATOMIC_RELAXED);                                                          \
    while (v > o && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {} \
    return o;                                                                                            \
  }                                                                                                      \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }                    \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }                      \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }                    \
  inline T atomicCAS(T* a, T cmp, T v) {                                                                 \
    __atomic_compare_exchange_n(a, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);                  \
    return cmp;                                                                                          \
  }
PL_ATOMIC_INT(int)
PL_ATOMIC_INT(unsigned int)
PL_ATOMIC_INT(unsigned long long)
#undef PL_ATOMIC_INT
inline long long atomicMin(long long* a, long long v) {
  long long o = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (v < o && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return o;
}
inline long long atomicMax(long long* a, long long v) {
  long long o = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (v > o && !__atomic_compare_exchange_n(a, &o, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return o;
}
inline unsigned short atomicCAS(unsigned short* a, unsigned short cmp, unsigned short v) {
  __atomic_compare_exchange_n(a, &cmp, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return cmp;
}
inline int atomicSub(int* a, int v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }
inline unsigned atomicInc(unsigned* a, unsigned lim) {
  unsigned o = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(a, &o, o >= lim ? 0u : o + 1u, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return o;
}
inline unsigned atomicDec(unsigned* a, unsigned lim) {
  unsigned o = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(a, &o, (o == 0u || o > lim) ? lim : o - 1u, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return o;
}
namespace paralift_cuda {
template <class F, class U, class Op>
inline F atomic_float_rmw(F* a, Op op) {
  static_assert(sizeof(F) == sizeof(U), "");
  U* p = reinterpret_cast<U*>(a);
  U o = __atomic_load_n(p, __ATOMIC_RELAXED), n;
  F of;
  do {
    memcpy(&of, &o, sizeof(F));
    F nf = op(of);
    memcpy(&n, &nf, sizeof(F));
  } while (!__atomic_compare_exchange_n(p, &o, n, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return of;
}
}  // namespace paralift_cuda
inline float atomicAdd(float* a, float v) { return ::paralift_cuda::atomic_float_rmw<float, unsigned>(a, [v](float o) { return o + v; }); }
inline double atomicAdd(double* a, double v) { return ::paralift_cuda::atomic_float_rmw<double, unsigned long long>(a, [v](double o) { return o + v; }); }
inline float atomicExch(float* a, float v) { return ::paralift_cuda::atomic_float_rmw<float, unsigned>(a, [v](float) { return v; }); }
inline float atomicMin(float* a, float v) { return ::paralift_cuda::atomic_float_rmw<float, unsigned>(a, [v](float o) { return v < o ? v : o; }); }
inline float atomicMax(float* a, float v) { return ::paralift_cuda::atomic_float_rmw<float, unsigned>(a, [v](float o) { return v > o ? v : o; }); }
inline double atomicMin(double* a, double v) { return ::paralift_cuda::atomic_float_rmw<double, unsigned long long>(a, [v](double o) { return v < o ? v : o; }); }
inline double atomicMax(double* a, double v) { return ::paralift_cuda::atomic_float_rmw<double, unsigned long long>(a, [v](double o) { return v > o ? v : o; }); }
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicSub_block atomicSub
#define atomicSub_system atomicSub
#define atomicExch_block atomicExch
#define atomicExch_system atomicExch
#define atomicMin_block atomicMin
#define atomicMin_system atomicMin
#define atomicMax_block atomicMax
#define atomicMax_system atomicMax
#define atomicInc_block atomicInc
#define atomicInc_system atomicInc
#define atomicDec_block atomicDec
#define atomicDec_system atomicDec
#define atomicCAS_block atomicCAS
#define atomicCAS_system atomicCAS
#define atomicAnd_block atomicAnd
#define atomicAnd_system atomicAnd
#define atomicOr_block atomicOr
#define atomicOr_system atomicOr
#define atomicXor_block atomicXor
#define atomicXor_system atomicXor

// ---- integer / bit intrinsics ----
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
}
inline unsigned long long __brevll(unsigned long long x) {
  return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7u))) & 0xffu) << (8 * i);
  return r;
}
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (sh & 31u)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (sh & 31u));
}
inline int __mul24(int a, int b) { return (int)(((long long)(a << 8 >> 8)) * (long long)(b << 8 >> 8)); }
inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline int __mulhi(int a, int b) { return (int)(((long long)a * (long long)b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) { return (unsigned long long)(((unsigned __int128)a * b) >> 64); }
inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
inline unsigned __uhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
inline unsigned __urhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b + 1) >> 1); }
inline unsigned __sad(int a, int b, unsigned c) { return (unsigned)(a > b ? a - b : b - a) + c; }
inline unsigned __usad(unsigned a, unsigned b, unsigned c) { return (a > b ? a - b : b - a) + c; }

// ---- reinterpretation and conversions ----
inline float __int_as_float(int x) { float f; memcpy(&f, &x, 4); return f; }
inline int __float_as_int(float x) { int i; memcpy(&i, &x, 4); return i; }
inline float __uint_as_float(unsigned x) { float f; memcpy(&f, &x, 4); return f; }
inline unsigned __float_as_uint(float x) { unsigned i; memcpy(&i, &x, 4); return i; }
inline double __longlong_as_double(long long x) { double d; memcpy(&d, &x, 8); return d; }
inline long long __double_as_longlong(double x) { long long i; memcpy(&i, &x, 8); return i; }
inline int __double2hiint(double x) { return (int)(__double_as_longlong(x) >> 32); }
inline int __double2loint(double x) { return (int)(unsigned)__double_as_longlong(x); }
inline double __hiloint2double(int hi, int lo) { return __longlong_as_double((long long)(((unsigned long long)(unsigned)hi << 32) | (unsigned)lo)); }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline unsigned __float2uint_rn(float x) { return (unsigned)nearbyintf(x); }
inline unsigned __float2uint_rz(float x) { return (unsigned)x; }
inline unsigned __float2uint_ru(float x) { return (unsigned)ceilf(x); }
inline unsigned __float2uint_rd(float x) { return (unsigned)floorf(x); }
inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
inline long long __float2ll_rz(float x) { return (long long)x; }
inline int __double2int_rn(double x) { return (int)nearbyint(x); }
inline int __double2int_rz(double x) { return (int)x; }
inline int __double2int_ru(double x) { return (int)ceil(x); }
inline int __double2int_rd(double x) { return (int)floor(x); }
inline unsigned __double2uint_rn(double x) { return (unsigned)nearbyint(x); }
inline long long __double2ll_rn(double x) { return (long long)nearbyint(x); }
inline long long __double2ll_rz(double x) { return (long long)x; }
inline float __double2float_rn(double x) { return (float)x; }
inline float __double2float_rz(double x) { return (float)x; }
inline float __int2float_rn(int x) { return (float)x; }
inline float __int2float_rz(int x) { return (float)x; }
inline float __uint2float_rn(unsigned x) { return (float)x; }
inline float __ll2float_rn(long long x) { return (float)x; }
inline double __int2double_rn(int x) { return (double)x; }
inline double __uint2double_rn(unsigned x) { return (double)x; }
inline double __ll2double_rn(long long x) { return (double)x; }

// ---- floating-point intrinsics ----
// CUDA never merges the _r? arithmetic intrinsics into an FMA; neither may g++ when the emulated
// build contracts (compile_flags(contract=True)): the empty asm makes the rounded value leave the
// expression before anything else uses it.
namespace paralift_cuda {
template <class T> inline T rounded(T v) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+x"(v));
#elif defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile T r = v; v = r;
#endif
  return v;
}
}  // namespace paralift_cuda
inline float __fadd_rn(float a, float b) { return ::paralift_cuda::rounded(a + b); }
inline float __fadd_rz(float a, float b) { return ::paralift_cuda::rounded(a + b); }
inline float __fadd_ru(float a, float b) { return ::paralift_cuda::rounded(a + b); }
inline float __fadd_rd(float a, float b) { return ::paralift_cuda::rounded(a + b); }
inline float __fsub_rn(float a, float b) { return ::paralift_cuda::rounded(a - b); }
inline float __fmul_rn(float a, float b) { return ::paralift_cuda::rounded(a * b); }
inline float __fmul_rz(float a, float b) { return ::paralift_cuda::rounded(a * b); }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __frsqrt_rn(float a) { return 1.0f / sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fmaf_rz(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fmul_ru(float a, float b) { return ::paralift_cuda::rounded(a * b); }
inline float __fmul_rd(float a, float b) { return ::paralift_cuda::rounded(a * b); }
inline double __dadd_rn(double a, double b) { return ::paralift_cuda::rounded(a + b); }
inline double __dsub_rn(double a, double b) { return ::paralift_cuda::rounded(a - b); }
inline double __dmul_rn(double a, double b) { return ::paralift_cuda::rounded(a * b); }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __drcp_rn(double a) { return 1.0 / a; }
inline double __dsqrt_rn(double a) { return sqrt(a); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __saturatef(float x) { return x != x ? 0.0f : x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float sinpif(float x) { return sinf((float)M_PI * x); }
inline float cospif(float x) { return cosf((float)M_PI * x); }
inline double sinpi(double x) { return sin(M_PI * x); }
inline double cospi(double x) { return cos(M_PI * x); }
inline void sincospif(float x, float* s, float* c) { *s = sinpif(x); *c = cospif(x); }
inline void sincospi(double x, double* s, double* c) { *s = sinpi(x); *c = cospi(x); }
inline float rhypotf(float x, float y) { return 1.0f / hypotf(x, y); }
inline double rhypot(double x, double y) { return 1.0 / hypot(x, y); }
inline float norm3df(float a, float b, float c) { return sqrtf(a * a + b * b + c * c); }
inline float rnorm3df(float a, float b, float c) { return 1.0f / sqrtf(a * a + b * b + c * c); }
inline float norm4df(float a, float b, float c, float d) { return sqrtf(a * a + b * b + c * c + d * d); }
inline float rnorm4df(float a, float b, float c, float d) { return 1.0f / sqrtf(a * a + b * b + c * c + d * d); }
inline double norm3d(double a, double b, double c) { return sqrt(a * a + b * b + c * c); }
inline double rnorm3d(double a, double b, double c) { return 1.0 / sqrt(a * a + b * b + c * c); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * (float)M_SQRT1_2); }
inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
inline float saturate(float x) { return __saturatef(x); }
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *p; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *p = v; }

// CUDA's global min/max overloads (math_functions.hpp)
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline unsigned min(int a, unsigned b) { return min((unsigned)a, b); }
inline unsigned max(int a, unsigned b) { return max((unsigned)a, b); }
inline unsigned min(unsigned a, int b) { return min(a, (unsigned)b); }
inline unsigned max(unsigned a, int b) { return max(a, (unsigned)b); }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline unsigned long min(long a, unsigned long b) { return min((unsigned long)a, b); }
inline unsigned long max(long a, unsigned long b) { return max((unsigned long)a, b); }
inline unsigned long min(unsigned long a, long b) { return min(a, (unsigned long)b); }
inline unsigned long max(unsigned long a, long b) { return max(a, (unsigned long)b); }
inline unsigned long long min(long long a, unsigned long long b) { return min((unsigned long long)a, b); }
inline unsigned long long max(long long a, unsigned long long b) { return max((unsigned long long)a, b); }
inline unsigned long long min(unsigned long long a, long long b) { return min(a, (unsigned long long)b); }
inline unsigned long long max(unsigned long long a, long long b) { return max(a, (unsigned long long)b); }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin((double)a, b); }
inline double max(float a, double b) { return fmax((double)a, b); }
inline double min(double a, float b) { return fmin(a, (double)b); }
inline double max(double a, float b) { return fmax(a, (double)b); }
inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long llmin(long long a, long long b) { return a < b ? a : b; }
inline long long llmax(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------
// host API
// ---------------------------------------------------------------------------
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define PL_E(x) case x: return #x;
    PL_E(cudaSuccess) PL_E(cudaErrorInvalidValue) PL_E(cudaErrorMemoryAllocation) PL_E(cudaErrorInitializationError)
    PL_E(cudaErrorCudartUnloading) PL_E(cudaErrorInvalidConfiguration) PL_E(cudaErrorInvalidPitchValue)
    PL_E(cudaErrorInvalidSymbol) PL_E(cudaErrorInvalidHostPointer) PL_E(cudaErrorInvalidDevicePointer)
    PL_E(cudaErrorInvalidMemcpyDirection) PL_E(cudaErrorInsufficientDriver) PL_E(cudaErrorInvalidDeviceFunction)
    PL_E(cudaErrorNoDevice) PL_E(cudaErrorInvalidDevice) PL_E(cudaErrorInvalidResourceHandle) PL_E(cudaErrorNotReady)
    PL_E(cudaErrorIllegalAddress) PL_E(cudaErrorLaunchOutOfResources) PL_E(cudaErrorLaunchTimeout)
    PL_E(cudaErrorAssert) PL_E(cudaErrorMisalignedAddress) PL_E(cudaErrorLaunchFailure)
    PL_E(cudaErrorCooperativeLaunchTooLarge) PL_E(cudaErrorNotSupported) PL_E(cudaErrorUnknown)
#undef PL_E
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidPitchValue: return "invalid pitch argument";
    case cudaErrorInvalidSymbol: return "invalid device symbol";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    default: return "unknown error";
  }
}
inline cudaError_t cudaGetLastError() {
  int s = ::paralift_cuda::sticky_error().load();
  if (s) return (cudaError_t)s;
  cudaError_t e = ::paralift_cuda::last_error();
  ::paralift_cuda::last_error() = cudaSuccess;
  return e;
}
inline cudaError_t cudaPeekAtLastError() {
  int s = ::paralift_cuda::sticky_error().load();
  if (s) return (cudaError_t)s;
  return ::paralift_cuda::last_error();
}

// ---- devices ----
inline cudaError_t cudaGetDeviceCount(int* n) {
  if (!n) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) { PL_STICKY(); return d == 0 ? cudaSuccess : ::paralift_cuda::set_error(cudaErrorInvalidDevice); }
inline cudaError_t cudaGetDevice(int* d) {
  if (!d) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaSetDeviceFlags(unsigned) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaGetDeviceFlags(unsigned* f) { if (f) *f = 0; return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaThreadSynchronize() { return cudaDeviceSynchronize(); }
inline cudaError_t cudaDeviceReset() {
  ::paralift_cuda::sticky_error().store(0);
  ::paralift_cuda::last_error() = cudaSuccess;
  return cudaSuccess;
}
inline cudaError_t cudaThreadExit() { return cudaDeviceReset(); }
inline cudaError_t cudaDriverGetVersion(int* v) { if (v) *v = 13000; return cudaSuccess; }
inline cudaError_t cudaRuntimeGetVersion(int* v) { if (v) *v = 13000; return cudaSuccess; }
inline cudaError_t cudaDeviceSetCacheConfig(cudaFuncCache) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaDeviceGetCacheConfig(cudaFuncCache* c) { if (c) *c = cudaFuncCachePreferNone; return cudaSuccess; }
inline cudaError_t cudaDeviceSetSharedMemConfig(cudaSharedMemConfig) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaDeviceSetLimit(cudaLimit, size_t) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaDeviceGetLimit(size_t* v, cudaLimit l) {
  if (!v) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *v = l == cudaLimitStackSize ? 1024 : l == cudaLimitPrintfFifoSize ? (1u << 20) : (8u << 20);
  return cudaSuccess;
}
inline cudaError_t cudaDeviceCanAccessPeer(int* c, int, int) { if (c) *c = 0; return cudaSuccess; }
inline cudaError_t cudaProfilerStart() { return cudaSuccess; }
inline cudaError_t cudaProfilerStop() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int dev) {
  PL_STICKY();
  if (!p) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  if (dev != 0) return ::paralift_cuda::set_error(cudaErrorInvalidDevice);
  memset(p, 0, sizeof *p);
  // The properties of the GPU paralift's CUDA was checked on (an H200, sm_90), so that code sizing
  // its grid or shared memory from them takes on the CPU the path it takes there.
  snprintf(p->name, sizeof p->name, "paralift CUDA-on-CPU emulation of an H200 (%d OS threads)",
           ::paralift_cuda::cfg_threads());
  long pages = sysconf(_SC_PHYS_PAGES);
  p->totalGlobalMem = pages > 0 ? (size_t)pages * ::paralift_cuda::page_size() : ((size_t)8 << 30);
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = 227 * 1024;
  p->regsPerBlock = 65536;
  p->regsPerMultiprocessor = 65536;
  p->warpSize = 32;
  p->memPitch = 2147483647;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsDim[0] = 1024; p->maxThreadsDim[1] = 1024; p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647; p->maxGridSize[1] = 65535; p->maxGridSize[2] = 65535;
  p->clockRate = 1980000;
  p->memoryClockRate = 2619000;
  p->memoryBusWidth = 6144;
  p->totalConstMem = 65536;
  p->major = 9;
  p->minor = 0;
  p->textureAlignment = 512;
  p->texturePitchAlignment = 32;
  p->deviceOverlap = 1;
  p->asyncEngineCount = 2;
  p->multiProcessorCount = 132;
  p->concurrentKernels = 1;
  p->canMapHostMemory = 1;
  p->unifiedAddressing = 1;
  p->managedMemory = 1;
  p->concurrentManagedAccess = 1;
  p->l2CacheSize = 50 * 1024 * 1024;
  p->maxThreadsPerMultiProcessor = 2048;
  p->maxBlocksPerMultiProcessor = 32;
  p->sharedMemPerMultiprocessor = 228 * 1024;
  p->streamPrioritiesSupported = 1;
  p->globalL1CacheSupported = 1;
  p->localL1CacheSupported = 1;
  p->hostNativeAtomicSupported = 1;
  p->singleToDoublePrecisionPerfRatio = 2;
  p->computePreemptionSupported = 1;
  p->cooperativeLaunch = 0;
  p->reservedSharedMemPerBlock = 1024;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int dev) {
  PL_STICKY();
  if (!v) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  if (dev != 0) return ::paralift_cuda::set_error(cudaErrorInvalidDevice);
  cudaDeviceProp p;
  cudaGetDeviceProperties(&p, 0);
  switch (a) {
    case cudaDevAttrMaxThreadsPerBlock: *v = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *v = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *v = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *v = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *v = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *v = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *v = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)p.sharedMemPerBlockOptin; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *v = (int)p.sharedMemPerMultiprocessor; break;
    case cudaDevAttrTotalConstantMemory: *v = (int)p.totalConstMem; break;
    case cudaDevAttrWarpSize: *v = 32; break;
    case cudaDevAttrMaxRegistersPerBlock: case cudaDevAttrMaxRegistersPerMultiprocessor: *v = 65536; break;
    case cudaDevAttrClockRate: *v = p.clockRate; break;
    case cudaDevAttrMultiProcessorCount: *v = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *v = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *v = p.minor; break;
    case cudaDevAttrL2CacheSize: *v = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *v = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrMemoryClockRate: *v = p.memoryClockRate; break;
    case cudaDevAttrGlobalMemoryBusWidth: *v = p.memoryBusWidth; break;
    case cudaDevAttrUnifiedAddressing: case cudaDevAttrManagedMemory: case cudaDevAttrConcurrentManagedAccess:
    case cudaDevAttrConcurrentKernels: case cudaDevAttrCanMapHostMemory: case cudaDevAttrGpuOverlap: *v = 1; break;
    case cudaDevAttrAsyncEngineCount: *v = 2; break;
    case cudaDevAttrTextureAlignment: *v = 512; break;
    case cudaDevAttrMaxPitch: *v = 2147483647; break;
    default: *v = 0; break;
  }
  return cudaSuccess;
}
inline cudaError_t cudaChooseDevice(int* d, const cudaDeviceProp*) { if (d) *d = 0; return cudaSuccess; }
inline cudaError_t cudaMemGetInfo(size_t* fr, size_t* total) {
  long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
  if (total) *total = (size_t)pages * ::paralift_cuda::page_size();
  if (fr) *fr = (size_t)avail * ::paralift_cuda::page_size();
  return cudaSuccess;
}
template <class K> inline cudaError_t cudaFuncSetCacheConfig(K, cudaFuncCache) { PL_STICKY(); return cudaSuccess; }
template <class K> inline cudaError_t cudaFuncSetSharedMemConfig(K, cudaSharedMemConfig) { PL_STICKY(); return cudaSuccess; }
template <class K> inline cudaError_t cudaFuncSetAttribute(K, cudaFuncAttribute attr, int value) {
  PL_STICKY();
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > 227 * 1024) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
    if ((size_t)value > ::paralift_cuda::max_dynamic_smem()) ::paralift_cuda::max_dynamic_smem() = (size_t)value;
  }
  return cudaSuccess;
}
template <class K> inline cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* a, K) {
  PL_STICKY();
  if (!a) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  memset(a, 0, sizeof *a);
  a->maxThreadsPerBlock = 1024;
  a->numRegs = 32;
  a->ptxVersion = 80;
  a->binaryVersion = 80;
  a->maxDynamicSharedSizeBytes = (int)::paralift_cuda::max_dynamic_smem();
  return cudaSuccess;
}
template <class K>
inline cudaError_t cudaOccupancyMaxPotentialBlockSize(int* minGrid, int* block, K, size_t = 0, int limit = 0) {
  PL_STICKY();
  int b = 1024;
  if (limit > 0 && limit < b) b = limit;
  if (block) *block = b;
  if (minGrid) *minGrid = 132 * (2048 / b);  // blocks that fill the H200's 132 SMs, as there
  return cudaSuccess;
}
template <class K>
inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, K, int blockSize, size_t = 0) {
  PL_STICKY();
  if (!n || blockSize <= 0) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *n = 2048 / blockSize > 32 ? 32 : (2048 / blockSize > 0 ? 2048 / blockSize : 1);
  return cudaSuccess;
}

// ---- memory ----
namespace paralift_cuda {
inline cudaError_t alloc(void** p, size_t size, int kind) {
  PL_STICKY();
  if (!p) return set_error(cudaErrorInvalidValue);
  if (size == 0) { *p = nullptr; return cudaSuccess; }
  void* q = malloc(size);  // exact size, so AddressSanitizer sees the first byte past the end
  if (!q) { *p = nullptr; return set_error(cudaErrorMemoryAllocation); }
  if (kind == MK_DEVICE || kind == MK_MANAGED) fill_fresh(q, size);
  reg_add(q, size, kind);
  *p = q;
  return cudaSuccess;
}
inline cudaError_t release(void* p, int want1, int want2, const char* fn) {
  PL_STICKY();
  if (!p) return cudaSuccess;
  if (reg_remove(p, want1, want2)) {
    free(p);
    return cudaSuccess;
  }
  fflush(stdout);
  fprintf(stderr, "paralift-cuda: %s(%p): not a pointer returned by the matching allocation call (or already freed)\n", fn, p);
  return set_error(cudaErrorInvalidValue);
}
// Checks that [p, p+n) lies inside one registered allocation.
inline bool dev_range(const void* p, size_t n, const char* fn, const char* which) {
  uintptr_t base = 0;
  size_t size = 0;
  int kind = reg_find(p, &base, &size);
  if (!kind) {
    fflush(stdout);
    fprintf(stderr, "paralift-cuda: %s: %s pointer %p is not device memory\n", fn, which, p);
    return false;
  }
  if ((uintptr_t)p + n > base + size) {
    fflush(stdout);
    fprintf(stderr, "paralift-cuda: %s: %zu bytes at %s pointer %p run past the end of its %zu-byte allocation\n", fn,
            n, which, p, size);
    return false;
  }
  return true;
}
// Bytes that crossed the bus (host <-> device copies), by direction: [0] to the device, [1] back.
// With PARALIFT_CUDA_TRANSFERS set, each such copy also writes one line to stderr naming its host
// address, so that a test can tell how often each array moved.
inline std::atomic<unsigned long long>* transfer_bytes() {
  static std::atomic<unsigned long long> b[2];
  return b;
}
inline void note_transfer(bool to_device, const void* host, size_t n) {
  transfer_bytes()[to_device ? 0 : 1] += n;
  static const bool log = getenv("PARALIFT_CUDA_TRANSFERS") != nullptr;
  if (log) fprintf(stderr, "paralift-cuda: transfer %s %zu bytes host %p\n", to_device ? "h2d" : "d2h", n, host);
}
inline cudaError_t copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, const char* fn) {
  PL_STICKY();
  if (n == 0) return cudaSuccess;
  if (!dst || !src) return set_error(cudaErrorInvalidValue);
  if ((int)kind < 0 || (int)kind > 4) return set_error(cudaErrorInvalidMemcpyDirection);
  if ((kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) && !dev_range(dst, n, fn, "destination"))
    return set_error(cudaErrorInvalidValue);
  if ((kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) && !dev_range(src, n, fn, "source"))
    return set_error(cudaErrorInvalidValue);
  if (kind == cudaMemcpyDefault) {
    if (reg_find(dst) && !dev_range(dst, n, fn, "destination")) return set_error(cudaErrorInvalidValue);
    if (reg_find(src) && !dev_range(src, n, fn, "source")) return set_error(cudaErrorInvalidValue);
  }
  memmove(dst, src, n);
  bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice ||
                 (kind == cudaMemcpyDefault && reg_find(dst) == MK_DEVICE);
  bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice ||
                 (kind == cudaMemcpyDefault && reg_find(src) == MK_DEVICE);
  if (dst_dev != src_dev) note_transfer(dst_dev, dst_dev ? src : dst, n);
  return cudaSuccess;
}
inline cudaError_t set(void* dst, int v, size_t n, const char* fn) {
  PL_STICKY();
  if (n == 0) return cudaSuccess;
  if (!dst || !dev_range(dst, n, fn, "destination")) return set_error(cudaErrorInvalidValue);
  memset(dst, v, n);
  return cudaSuccess;
}
}  // namespace paralift_cuda

inline cudaError_t cudaMalloc(void** p, size_t size) { return ::paralift_cuda::alloc(p, size, ::paralift_cuda::MK_DEVICE); }
template <class T> inline cudaError_t cudaMalloc(T** p, size_t size) { return cudaMalloc((void**)(void*)p, size); }
inline cudaError_t cudaMallocManaged(void** p, size_t size, unsigned = cudaMemAttachGlobal) {
  return ::paralift_cuda::alloc(p, size, ::paralift_cuda::MK_MANAGED);
}
template <class T> inline cudaError_t cudaMallocManaged(T** p, size_t size, unsigned f = cudaMemAttachGlobal) {
  return cudaMallocManaged((void**)(void*)p, size, f);
}
inline cudaError_t cudaMallocAsync(void** p, size_t size, cudaStream_t) { return cudaMalloc(p, size); }
template <class T> inline cudaError_t cudaMallocAsync(T** p, size_t size, cudaStream_t s) { return cudaMallocAsync((void**)(void*)p, size, s); }
inline cudaError_t cudaMallocHost(void** p, size_t size) { return ::paralift_cuda::alloc(p, size, ::paralift_cuda::MK_PINNED); }
template <class T> inline cudaError_t cudaMallocHost(T** p, size_t size) { return cudaMallocHost((void**)(void*)p, size); }
inline cudaError_t cudaHostAlloc(void** p, size_t size, unsigned) { return ::paralift_cuda::alloc(p, size, ::paralift_cuda::MK_PINNED); }
template <class T> inline cudaError_t cudaHostAlloc(T** p, size_t size, unsigned f) { return cudaHostAlloc((void**)(void*)p, size, f); }
inline cudaError_t cudaFree(void* p) {
  return ::paralift_cuda::release(p, ::paralift_cuda::MK_DEVICE, ::paralift_cuda::MK_MANAGED, "cudaFree");
}
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }
inline cudaError_t cudaFreeHost(void* p) {
  return ::paralift_cuda::release(p, ::paralift_cuda::MK_PINNED, ::paralift_cuda::MK_PINNED, "cudaFreeHost");
}
inline cudaError_t cudaHostRegister(void* p, size_t size, unsigned) {
  PL_STICKY();
  if (!p || !size) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  ::paralift_cuda::reg_add(p, size, ::paralift_cuda::MK_REGISTERED);
  return cudaSuccess;
}
inline cudaError_t cudaHostUnregister(void* p) {
  PL_STICKY();
  if (!::paralift_cuda::reg_remove(p, ::paralift_cuda::MK_REGISTERED, ::paralift_cuda::MK_REGISTERED))
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  return cudaSuccess;
}
inline cudaError_t cudaHostGetDevicePointer(void** d, void* h, unsigned) {
  PL_STICKY();
  if (!d || !::paralift_cuda::reg_find(h)) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *d = h;
  return cudaSuccess;
}
template <class T> inline cudaError_t cudaHostGetDevicePointer(T** d, void* h, unsigned f) {
  return cudaHostGetDevicePointer((void**)(void*)d, h, f);
}
inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  PL_STICKY();
  if (!a) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  int k = ::paralift_cuda::reg_find(p);
  a->device = 0;
  a->type = k == ::paralift_cuda::MK_DEVICE || k == ::paralift_cuda::MK_SYMBOL ? cudaMemoryTypeDevice
            : k == ::paralift_cuda::MK_MANAGED                                ? cudaMemoryTypeManaged
            : k                                                             ? cudaMemoryTypeHost
                                                                            : cudaMemoryTypeUnregistered;
  a->devicePointer = k ? (void*)p : nullptr;
  a->hostPointer = (k && k != ::paralift_cuda::MK_DEVICE && k != ::paralift_cuda::MK_SYMBOL) || !k ? (void*)p : nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  return ::paralift_cuda::copy(dst, src, n, kind, "cudaMemcpy");
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t = 0) {
  return ::paralift_cuda::copy(dst, src, n, kind, "cudaMemcpyAsync");
}
inline cudaError_t cudaMemset(void* dst, int v, size_t n) { return ::paralift_cuda::set(dst, v, n, "cudaMemset"); }
inline cudaError_t cudaMemsetAsync(void* dst, int v, size_t n, cudaStream_t = 0) {
  return ::paralift_cuda::set(dst, v, n, "cudaMemsetAsync");
}
inline cudaError_t cudaMallocPitch(void** p, size_t* pitch, size_t width, size_t height) {
  PL_STICKY();
  if (!p || !pitch) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  size_t pt = (width + 511) / 512 * 512;  // like a GPU: rows padded to 512 bytes
  if (pt == 0) pt = 512;
  *pitch = pt;
  return ::paralift_cuda::alloc(p, pt * height, ::paralift_cuda::MK_DEVICE);
}
template <class T> inline cudaError_t cudaMallocPitch(T** p, size_t* pitch, size_t w, size_t h) {
  return cudaMallocPitch((void**)(void*)p, pitch, w, h);
}
inline cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                                cudaMemcpyKind kind) {
  PL_STICKY();
  if (width > dpitch || width > spitch) return ::paralift_cuda::set_error(cudaErrorInvalidPitchValue);
  if (height == 0 || width == 0) return cudaSuccess;
  size_t dspan = dpitch * (height - 1) + width, sspan = spitch * (height - 1) + width;
  if ((kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) &&
      !::paralift_cuda::dev_range(dst, dspan, "cudaMemcpy2D", "destination"))
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  if ((kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) &&
      !::paralift_cuda::dev_range(src, sspan, "cudaMemcpy2D", "source"))
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  for (size_t r = 0; r < height; ++r) memmove((char*)dst + r * dpitch, (const char*)src + r * spitch, width);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy2DAsync(void* dst, size_t dp, const void* src, size_t sp, size_t w, size_t h,
                                     cudaMemcpyKind k, cudaStream_t = 0) {
  return cudaMemcpy2D(dst, dp, src, sp, w, h, k);
}
inline cudaError_t cudaMemset2D(void* dst, size_t pitch, int v, size_t width, size_t height) {
  PL_STICKY();
  if (width > pitch) return ::paralift_cuda::set_error(cudaErrorInvalidPitchValue);
  if (height == 0 || width == 0) return cudaSuccess;
  if (!::paralift_cuda::dev_range(dst, pitch * (height - 1) + width, "cudaMemset2D", "destination"))
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  for (size_t r = 0; r < height; ++r) memset((char*)dst + r * pitch, v, width);
  return cudaSuccess;
}
// CUDA 12 and CUDA 13 forms (13 takes a cudaMemLocation)
inline cudaError_t cudaMemPrefetchAsync(const void*, size_t, int, cudaStream_t = 0) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaMemPrefetchAsync(const void*, size_t, cudaMemLocation, unsigned, cudaStream_t = 0) {
  PL_STICKY();
  return cudaSuccess;
}
inline cudaError_t cudaMemAdvise(const void*, size_t, cudaMemoryAdvise, int) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaMemAdvise(const void*, size_t, cudaMemoryAdvise, cudaMemLocation) { PL_STICKY(); return cudaSuccess; }
// __device__ / __constant__ variables are ordinary globals here.
template <class T>
inline cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t n, size_t offset = 0,
                                      cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
  PL_STICKY();
  if (offset + n > sizeof(T)) {
    fprintf(stderr, "paralift-cuda: cudaMemcpyToSymbol: %zu bytes at offset %zu exceed the %zu-byte symbol\n", n,
            offset, sizeof(T));
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  }
  if (kind == cudaMemcpyDeviceToHost) return ::paralift_cuda::set_error(cudaErrorInvalidMemcpyDirection);
  if (n) memmove((char*)(void*)&symbol + offset, src, n);
  return cudaSuccess;
}
template <class T>
inline cudaError_t cudaMemcpyToSymbolAsync(T& symbol, const void* src, size_t n, size_t offset = 0,
                                           cudaMemcpyKind kind = cudaMemcpyHostToDevice, cudaStream_t = 0) {
  return cudaMemcpyToSymbol(symbol, src, n, offset, kind);
}
template <class T>
inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                        cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  PL_STICKY();
  if (offset + n > sizeof(T)) {
    fprintf(stderr, "paralift-cuda: cudaMemcpyFromSymbol: %zu bytes at offset %zu exceed the %zu-byte symbol\n", n,
            offset, sizeof(T));
    return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  }
  if (kind == cudaMemcpyHostToDevice) return ::paralift_cuda::set_error(cudaErrorInvalidMemcpyDirection);
  if (n) memmove(dst, (const char*)(const void*)&symbol + offset, n);
  return cudaSuccess;
}
template <class T>
inline cudaError_t cudaMemcpyFromSymbolAsync(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                             cudaMemcpyKind kind = cudaMemcpyDeviceToHost, cudaStream_t = 0) {
  return cudaMemcpyFromSymbol(dst, symbol, n, offset, kind);
}
template <class T>
inline cudaError_t cudaGetSymbolAddress(void** p, const T& symbol) {
  PL_STICKY();
  if (!p) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *p = (void*)&symbol;
  if (!::paralift_cuda::reg_find(*p)) ::paralift_cuda::reg_add(*p, sizeof(T), ::paralift_cuda::MK_SYMBOL);
  return cudaSuccess;
}
template <class U, class T>
inline cudaError_t cudaGetSymbolAddress(U** p, const T& symbol) { return cudaGetSymbolAddress((void**)(void*)p, symbol); }
template <class T>
inline cudaError_t cudaGetSymbolSize(size_t* n, const T&) {
  if (!n) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *n = sizeof(T);
  return cudaSuccess;
}

// ---- streams and events: work runs synchronously, so every order is kept ----
namespace paralift_cuda {
inline double now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}
}  // namespace paralift_cuda
inline cudaError_t cudaStreamCreateWithPriority(cudaStream_t* s, unsigned flags, int prio) {
  PL_STICKY();
  if (!s) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *s = new CUstream_st{flags, prio};
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) { return cudaStreamCreateWithPriority(s, flags, 0); }
inline cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithPriority(s, 0, 0); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  PL_STICKY();
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
  delete s;
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaStreamQuery(cudaStream_t) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned = 0) { PL_STICKY(); return cudaSuccess; }
inline cudaError_t cudaDeviceGetStreamPriorityRange(int* lo, int* hi) { if (lo) *lo = 0; if (hi) *hi = -5; return cudaSuccess; }
inline cudaError_t cudaStreamGetPriority(cudaStream_t s, int* p) {
  if (p) *p = (s && s != cudaStreamLegacy && s != cudaStreamPerThread) ? s->priority : 0;
  return cudaSuccess;
}
inline cudaError_t cudaLaunchHostFunc(cudaStream_t, cudaHostFn_t fn, void* data) {
  PL_STICKY();
  if (!fn) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  fn(data);
  return cudaSuccess;
}
inline cudaError_t cudaStreamAddCallback(cudaStream_t s, cudaStreamCallback_t cb, void* data, unsigned) {
  PL_STICKY();
  if (!cb) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  cb(s, cudaSuccess, data);
  return cudaSuccess;
}
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags) {
  PL_STICKY();
  if (!e) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  *e = new CUevent_st{flags, false, 0.0};
  return cudaSuccess;
}
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, 0); }
inline cudaError_t cudaEventCreate(cudaEvent_t* e, unsigned flags) { return cudaEventCreateWithFlags(e, flags); }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  PL_STICKY();
  if (!e) return ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = 0) {
  PL_STICKY();
  if (!e) return ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
  e->recorded = true;
  e->t_ms = ::paralift_cuda::now_ms();
  return cudaSuccess;
}
inline cudaError_t cudaEventRecordWithFlags(cudaEvent_t e, cudaStream_t s = 0, unsigned = 0) { return cudaEventRecord(e, s); }
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  PL_STICKY();
  return e ? cudaSuccess : ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
}
inline cudaError_t cudaEventQuery(cudaEvent_t e) {
  PL_STICKY();
  return e ? cudaSuccess : ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
}
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  PL_STICKY();
  if (!ms) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  if (!a || !b || !a->recorded || !b->recorded || ((a->flags | b->flags) & cudaEventDisableTiming))
    return ::paralift_cuda::set_error(cudaErrorInvalidResourceHandle);
  *ms = (float)(b->t_ms - a->t_ms);
  return cudaSuccess;
}

// cudaLaunchKernel(kernel, grid, block, args, smem, stream)
namespace paralift_cuda {
template <class... P, size_t... I>
inline std::tuple<std::decay_t<P>...> unpack_args(void** args, std::index_sequence<I...>) {
  return std::tuple<std::decay_t<P>...>(*static_cast<std::decay_t<P>*>(args[I])...);
}
}  // namespace paralift_cuda
template <class... P>
inline cudaError_t cudaLaunchKernel(void (*k)(P...), dim3 grid, dim3 block, void** args, size_t smem = 0,
                                    cudaStream_t = 0) {
  PL_STICKY();
  if (sizeof...(P) > 0 && !args) return ::paralift_cuda::set_error(cudaErrorInvalidValue);
  auto t = ::paralift_cuda::unpack_args<P...>(args, std::index_sequence_for<P...>{});
  auto body = [k](auto&... a) { k(a...); };
  return std::apply([&](auto&... a) { return ::paralift_cuda::launch_args("cudaLaunchKernel", grid, block, smem, body, a...); },
                    t);
}

// __asan_default_options / __tsan_default_options: leaks of device memory are
// no error; a race ends the run.
#ifdef PL_ASAN
extern "C" __attribute__((weak)) const char* __asan_default_options() {
  return "detect_leaks=0:detect_stack_use_after_return=0";
}
#endif
#ifdef PL_TSAN
extern "C" __attribute__((weak)) const char* __tsan_default_options() {
  // atexit_sleep_ms=0: TSan otherwise sleeps 1 s at exit to catch threads still
  // running then; every grid thread has finished its launch by then
  return "halt_on_error=1:report_signal_unsafe=0:report_atomic_races=0:history_size=4:atexit_sleep_ms=0";
}
#endif

#endif  // PARALIFT_CUDA_H
