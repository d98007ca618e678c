// paralift CUDA-on-CPU: the block-level part of cooperative groups.
//
// Supported: this_thread_block(), thread_block (sync, thread_rank, size,
// num_threads, group_index, thread_index, group_dim, dim_threads),
// tiled_partition<N>(block) for N = 1..32 (sync, thread_rank, size,
// meta_group_rank, meta_group_size, shfl, shfl_up, shfl_down, shfl_xor, any,
// all, ballot, match_any), tiled_partition(block, n) as a thread_group (sync,
// thread_rank, size), cg::sync(g), cg::reduce / inclusive_scan /
// exclusive_scan with cg::plus, less, greater, bit_and, bit_or, bit_xor.
// Grid-wide groups (this_grid, grid_group::sync) and coalesced_threads() are
// not supported: the rewriter reports them.
#ifndef PARALIFT_COOPERATIVE_GROUPS_H
#define PARALIFT_COOPERATIVE_GROUPS_H
#include "paralift_cuda.h"

namespace cooperative_groups {

namespace details {
inline unsigned block_rank() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
inline unsigned block_size() { return blockDim.x * blockDim.y * blockDim.z; }
}  // namespace details

class thread_block {
 public:
  void sync() const { ::paralift_cuda::block_barrier(::paralift_cuda::BK_SYNC, 1, __LINE__); }
  unsigned long long thread_rank() const { return details::block_rank(); }
  unsigned long long size() const { return details::block_size(); }
  unsigned long long num_threads() const { return details::block_size(); }
  dim3 group_index() const { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
  dim3 thread_index() const { return dim3(threadIdx.x, threadIdx.y, threadIdx.z); }
  dim3 group_dim() const { return dim3(blockDim.x, blockDim.y, blockDim.z); }
  dim3 dim_threads() const { return group_dim(); }
};
inline thread_block this_thread_block() { return thread_block(); }

// A dynamically sized partition of a block (tiled_partition(block, n)).
class thread_group {
 public:
  explicit thread_group(unsigned n) : n_(n) {}
  void sync() const {
    if (n_ >= 32) ::paralift_cuda::block_barrier(::paralift_cuda::BK_SYNC, 1, __LINE__);
    else ::paralift_cuda::warp_op(::paralift_cuda::WK_SYNC, mask(), 0, 0, 0, __LINE__);
  }
  unsigned long long thread_rank() const { return details::block_rank() % n_; }
  unsigned long long size() const { return n_; }
  unsigned long long num_threads() const { return n_; }
  unsigned meta_group_rank() const { return details::block_rank() / n_; }

 private:
  unsigned mask() const {
    unsigned lane = details::block_rank() & 31u;
    unsigned base = lane / n_ * n_;
    return (n_ >= 32 ? 0xffffffffu : ((1u << n_) - 1u)) << base;
  }
  unsigned n_;
};

template <unsigned N>
class thread_block_tile {
  static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0, "tiles of 1, 2, 4, 8, 16 or 32 threads");

 public:
  unsigned mask() const {
    unsigned lane = details::block_rank() & 31u;
    return (N == 32 ? 0xffffffffu : ((1u << N) - 1u)) << (lane / N * N);
  }
  void sync() const { ::paralift_cuda::warp_op(::paralift_cuda::WK_SYNC, mask(), 0, 0, 0, __LINE__); }
  unsigned long long thread_rank() const { return details::block_rank() % N; }
  unsigned long long size() const { return N; }
  unsigned long long num_threads() const { return N; }
  unsigned long long meta_group_rank() const { return details::block_rank() / N; }
  unsigned long long meta_group_size() const { return (details::block_size() + N - 1) / N; }
  template <class T> T shfl(T v, int src) const { return ::paralift_cuda::shfl_idx_(__LINE__, mask(), v, src, (int)N); }
  template <class T> T shfl_up(T v, unsigned d) const { return ::paralift_cuda::shfl_up_(__LINE__, mask(), v, d, (int)N); }
  template <class T> T shfl_down(T v, unsigned d) const { return ::paralift_cuda::shfl_down_(__LINE__, mask(), v, d, (int)N); }
  template <class T> T shfl_xor(T v, int m) const { return ::paralift_cuda::shfl_xor_(__LINE__, mask(), v, m, (int)N); }
  int any(int p) const { return (int)::paralift_cuda::warp_op(::paralift_cuda::WK_ANY, mask(), p != 0, 0, 0, __LINE__); }
  int all(int p) const { return (int)::paralift_cuda::warp_op(::paralift_cuda::WK_ALL, mask(), p != 0, 0, 0, __LINE__); }
  unsigned ballot(int p) const {  // bit i: thread i of the tile
    unsigned b = (unsigned)::paralift_cuda::warp_op(::paralift_cuda::WK_BALLOT, mask(), p != 0, 0, 0, __LINE__);
    return b >> ((details::block_rank() & 31u) / N * N);
  }
  template <class T> unsigned match_any(T v) const {
    unsigned b = (unsigned)::paralift_cuda::warp_op(::paralift_cuda::WK_MATCH_ANY, mask(), ::paralift_cuda::to_bits(v), 0, 0, __LINE__);
    return b >> ((details::block_rank() & 31u) / N * N);
  }
};

template <unsigned N, class Parent>
inline thread_block_tile<N> tiled_partition(const Parent&) {
  return thread_block_tile<N>();
}
inline thread_group tiled_partition(const thread_block&, unsigned n) {
  if (n == 0 || (n < 32 && (n & (n - 1)) != 0) || (n > 32 && n % 32 != 0))
    ::paralift_cuda::fatal("tiled_partition(block, %u): tile sizes must be powers of two up to 32 or multiples of 32", n);
  return thread_group(n);
}

template <class G> inline void sync(const G& g) { g.sync(); }

template <class T> struct plus { T operator()(T a, T b) const { return a + b; } };
template <class T> struct less { T operator()(T a, T b) const { return b < a ? b : a; } };
template <class T> struct greater { T operator()(T a, T b) const { return a < b ? b : a; } };
template <class T> struct bit_and { T operator()(T a, T b) const { return a & b; } };
template <class T> struct bit_or { T operator()(T a, T b) const { return a | b; } };
template <class T> struct bit_xor { T operator()(T a, T b) const { return a ^ b; } };

template <unsigned N, class T, class Op>
inline T reduce(const thread_block_tile<N>& g, T v, Op op) {
  for (unsigned o = N / 2; o > 0; o /= 2) v = op(v, g.shfl_xor(v, (int)o));
  return v;
}
template <unsigned N, class T, class Op>
inline T inclusive_scan(const thread_block_tile<N>& g, T v, Op op) {
  unsigned r = (unsigned)g.thread_rank();
  for (unsigned d = 1; d < N; d *= 2) {
    T y = g.shfl_up(v, d);
    if (r >= d) v = op(v, y);
  }
  return v;
}
template <unsigned N, class T>
inline T inclusive_scan(const thread_block_tile<N>& g, T v) { return inclusive_scan(g, v, plus<T>()); }
template <unsigned N, class T, class Op>
inline T exclusive_scan(const thread_block_tile<N>& g, T v, Op op) {
  T inc = inclusive_scan(g, v, op);
  T prev = g.shfl_up(inc, 1);
  return g.thread_rank() == 0 ? T() : prev;
}
template <unsigned N, class T>
inline T exclusive_scan(const thread_block_tile<N>& g, T v) { return exclusive_scan(g, v, plus<T>()); }

}  // namespace cooperative_groups

#endif  // PARALIFT_COOPERATIVE_GROUPS_H
