// The fuzz harness's allocation meter: this executable's malloc family forwards to glibc's and,
// while a thread has counting on, records the size of every request. A decoder that allocates
// what a header claims (a billion-node graph, a 4 GB label array) shows up as one huge request,
// whether or not it ever touches the memory, which RSS or mallinfo2() would miss.
//
// Linked only into peerd-fuzz (never into peerd or the test binary). Definitions in the
// executable take precedence over libc's for every library in the process; glibc exports the
// __libc_* entry points this forwards to.
#include "CFuzzSupport.h"

#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static __thread int counting;
static __thread size_t largest_request;
static __thread size_t total_requested;

static inline void note(size_t n) {
  if (counting) {
    if (n > largest_request) largest_request = n;
    total_requested += n;
  }
}

void *malloc(size_t n) {
  note(n);
  return __libc_malloc(n);
}

void *calloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) n = (size_t)-1;
  note(n);
  return __libc_calloc(count, size);
}

void *realloc(void *p, size_t n) {
  note(n);
  return __libc_realloc(p, n);
}

void free(void *p) { __libc_free(p); }

void *memalign(size_t alignment, size_t n) {
  note(n);
  return __libc_memalign(alignment, n);
}

void *aligned_alloc(size_t alignment, size_t n) {
  note(n);
  return __libc_memalign(alignment, n);
}

int posix_memalign(void **out, size_t alignment, size_t n) {
  note(n);
  void *p = __libc_memalign(alignment, n);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}

void peerd_allocations_begin(void) {
  largest_request = 0;
  total_requested = 0;
  counting = 1;
}

void peerd_allocations_end(size_t *largest, size_t *total) {
  counting = 0;
  *largest = largest_request;
  *total = total_requested;
}
