// Counts every heap allocation of the program it is linked into, C and C++ alike (OpenSSL's
// included): the C allocator's entry points are replaced here and hand over to glibc's own.
// Linked into `rtcpp-counted`, the rtcpp tool whose `bench bulk` then reports allocations
// per message and per packet (tools/heap_count.hpp reads the count).
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

// glibc's own allocator, under the names it exports for this purpose.
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* pointer);
}
// NOLINTEND(bugprone-reserved-identifier)

namespace {
std::atomic<std::uint64_t> g_allocations{0};
void count() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {

std::uint64_t rtcpp_counted_heap_allocations() noexcept {
  return g_allocations.load(std::memory_order_relaxed);
}

void* malloc(std::size_t size) {
  count();
  return __libc_malloc(size);
}

void* calloc(std::size_t count_of, std::size_t size) {
  count();
  return __libc_calloc(count_of, size);
}

void* realloc(void* pointer, std::size_t size) {
  count();
  return __libc_realloc(pointer, size);
}

void* memalign(std::size_t alignment, std::size_t size) {
  count();
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  count();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}

void free(void* pointer) {
  __libc_free(pointer);
}

}  // extern "C"
