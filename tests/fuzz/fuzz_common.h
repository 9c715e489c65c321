/*
 * tests/fuzz/fuzz_common.h: helpers shared by the libFuzzer targets (one
 * copy for all):
 *
 *   - CHECK(cond, fmt, ...): when cond is false, print
 *     "FUZZ_NAME: cond: <message>" on stderr and trap, so that libFuzzer
 *     saves the input as a crash;
 *   - struct tmem, the counting allocator that fails on purpose, from
 *     tests/common/alloc.h over libc (blocks behind a 16-octet header;
 *     set max_len to cap a single request).
 *
 * Define FUZZ_NAME (the target's name, a string literal) before including.
 * Header-only; no cmocka.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>

#include "tests/common/alloc.h"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_common.h"
#endif

#define CHECK(cond, ...) do {                                                 \
        if (!(cond)) {                                                        \
            fprintf(stderr, FUZZ_NAME ": %s: ", #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            __builtin_trap();                                                 \
        }                                                                     \
    } while (0)

/* The libFuzzer entry point each target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
