#ifndef PEERD_CFUZZSUPPORT_H
#define PEERD_CFUZZSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// Starts counting this thread's allocation requests (malloc, calloc, realloc, aligned forms).
void peerd_allocations_begin(void);

/// Stops counting and reports the largest single request and the sum of all requests, in bytes,
/// since `peerd_allocations_begin`.
void peerd_allocations_end(size_t *largest, size_t *total);

/// libFuzzer's own mutator, callable from a custom mutator (defined only in -sanitize=fuzzer builds).
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#endif
