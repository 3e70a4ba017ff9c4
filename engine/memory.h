#pragma once

namespace diffmesh {

// Configures the C library allocator for the engine's allocation pattern:
// large, short-lived buffers (input messages, batcher chunks, batches being
// built or merged) that are freed and allocated again at every step. By
// default glibc serves each such buffer with a fresh mmap and unmaps it on
// free, so every page is faulted in again on the next use, which on virtual
// machines costs more than the work done on it (measured: 1M-edge loads spent
// a third of their time in page faults). Here blocks below 32 MiB come from
// the heap, which grows 64 MiB at a time and keeps up to 256 MiB of freed
// memory for reuse; only whole-batch columns above 32 MiB are mapped and
// returned on free, which keeps the heap from fragmenting around them
// (measured: with everything on the heap, peak resident memory was 1.3x the
// live peak; with 32 MiB it stays at the live peak). Memory freed below the
// peak is kept for the next step rather than returned.
//
// Process-wide, so opt-in: a program calls it (the benchmark drivers and
// the diffmesh program do), or asks Runtime for it
// (RuntimeOptions::tune_allocator). Once per process; a no-op afterwards
// and on C libraries other than glibc. DIFFMESH_SYSTEM_MALLOC=1 turns it off
// where a program asked for it (the allocator stays as the environment
// configures it, e.g. GLIBC_TUNABLES).
void TuneAllocator();

// Makes every thread allocate from glibc's one main heap (M_ARENA_MAX=1)
// instead of a heap per thread. Workers hand buffers to one another: an
// exchange's messages are allocated by the sending worker and freed by the
// receiving one, which frees them into the sender's heap, where the
// receiver's own allocations cannot reuse them. With one heap they can
// (measured, bench/bfs at 2 workers: 100K/500K peak RSS 24.3 -> 20.8
// MiB). The cost: the workers take one lock to
// allocate, and small rounds allocate often (round medians at 2 workers
// 1.3x for 100K/200K, up to 1.6x for 100K/500K; stable times unchanged),
// which is why it is not the default. Takes effect only before the
// process's second thread first
// allocates (glibc fixes the number of heaps then). Process-wide, so
// opt-in: RuntimeOptions::one_heap, or a program calls it first thing.
// Once per process; a no-op on C libraries other than glibc, and where
// DIFFMESH_SYSTEM_MALLOC=1.
void ShareOneHeap();

// For a program's main, first thing: starts the program again, once, with
// glibc's allocator putting its large blocks and its heap in transparent
// huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1; glibc reads tunables
// only at start, hence the new start). On virtual machines a first touch
// of a page can cost more than the work done on it; 2 MiB pages take 512
// times fewer faults (measured: `diffmesh profile` of 3M rows, 2.2 -> 1.2
// s, the same peak resident memory). Needs the kernel's THP in madvise (or
// always) mode; elsewhere it changes nothing. Returns (and the program
// goes on as it was started) when GLIBC_TUNABLES is already set (add
// glibc.malloc.hugetlb=1 to it yourself), DIFFMESH_SYSTEM_MALLOC=1, or the
// program cannot be executed again (no /proc/self/exe).
void StartWithHugePages(char** argv);

}  // namespace diffmesh
