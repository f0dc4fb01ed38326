/*
 * _caffe2lite_speedups: the optional compiled kernels of caffe2lite's two sparse
 * dropout ops, SparseDropoutWithReplacement and SparseItemwiseDropoutWithReplacement.
 *
 * caffe2lite runs without this module (ops/_speedups.py falls back to the numpy
 * kernels). With it, the ops make the same random decisions from the same generator
 * words and return the same arrays; only the time differs. The random stream is the
 * one ops/_dropout_draws.py describes: one byte per decision, taken from the
 * generator's raw 64-bit words least significant byte first, a byte below `whole`
 * keeping, a byte equal to `whole` (a tie) settled after all the bytes, in order, by
 * one next_double() each, kept when below `fraction` (no tie is recorded when
 * fraction is 0: a tie then drops).
 *
 * Generators are reached through numpy's C interface: the "BitGenerator" capsule of
 * `Generator.bit_generator` holds a bitgen_t (numpy/random/bitgen.h, stable since
 * numpy 1.17). For numpy's PCG64 the caller may pass fast=1, and the words are then
 * computed here from the PCG64 state (numpy's pcg64_random_t) instead of one call
 * per word; ops/_speedups.py passes it only after checking, once per process, that
 * the state read here equals `PCG64.state` and the words equal `random_raw`.
 *
 * Only the buffer protocol is used (no numpy headers), so one build serves every
 * numpy version. Every function checks the sizes of the buffers it is given and
 * never reads or writes outside them.
 *
 * Outputs are 64-byte aligned views of buffers a few items longer. Run in a
 * workspace, the kernels write Y into the previous Y's memory when the workspace
 * holds the only reference to it (see `reusable`), as Caffe2 keeps an output's
 * memory from run to run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#if defined(__SIZEOF_INT128__)
#define HAVE_PCG64_CANDIDATE 1
#else
#define HAVE_PCG64_CANDIDATE 0
#endif
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* An AVX2 selection, chosen at run time, where the compiler can target it. */
#if HAVE_PCG64_CANDIDATE && defined(__x86_64__) &&                                     \
    (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2 1
#include <immintrin.h>
static int avx2_enabled; /* set at import: whether the processor has AVX2 */
#else
#define HAVE_AVX2 0
#endif

/* Bumped whenever a function's signature or meaning changes: ops/_speedups.py only
 * uses a module built from the same interface. */
#define INTERFACE 6

/* Elements per block of the itemwise kernel: a block's words are drawn while the
 * previous block is being selected, so the two overlap. */
#define BLOCK 4096
#define BLOCK_WORDS (BLOCK / 8)

/* From this many elements up, an output that is not reused is written from its last
 * element to its first (with AVX2; itemwise also needs inline PCG64 words): so large
 * an allocation gets fresh pages from the system, which fault in as they are first
 * written, and Linux's transparent huge pages, zeroed on that first write, stay in
 * cache for writes that come downwards (itemwise at 10^7 ids: 0.95-1.05 ns/id against
 * 1.33-1.44 upwards, where numpy.copy takes 0.8). 32 MiB of output: the largest
 * allocation glibc may still serve from its heap. Settable for tests. */
static Py_ssize_t backward_from = (Py_ssize_t)4 << 20;

/* Below this many elements the GIL is kept (releasing it costs more than it gives). */
#define RELEASE_GIL_AT 65536

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

typedef struct {
    void *state;
    uint64_t (*next_uint64)(void *st);
    uint32_t (*next_uint32)(void *st);
    double (*next_double)(void *st);
    uint64_t (*next_raw)(void *st);
} bitgen_t;

#if HAVE_PCG64_CANDIDATE
#define HAVE_PCG64 1
typedef __uint128_t u128;
typedef struct {
    u128 state;
    u128 inc;
} pcg64_random_t;
typedef struct {
    pcg64_random_t *pcg_state;
    int has_uint32;
    uint32_t uinteger;
} pcg64_state;
#define PCG64_MULTIPLIER (((u128)2549297995355413924ULL << 64) | 4865540595714422341ULL)

static inline uint64_t pcg64_output(u128 state) {
    uint64_t folded = (uint64_t)(state >> 64) ^ (uint64_t)state;
    unsigned rot = (unsigned)(state >> 122);
    return (folded >> rot) | (folded << ((-rot) & 63));
}
#else
#define HAVE_PCG64 0
#endif

/* A source of raw 64-bit words: numpy's next_raw, or PCG64 stepped inline. The
 * inline state lives in the struct only between calls of source_open/close. */
typedef struct {
    bitgen_t *bitgen;
#if HAVE_PCG64
    pcg64_random_t *pcg; /* non-NULL: step this state inline */
    u128 state, inc;
    /* s_{j+k} = mult[k-1] s_j + add[k-1] for k = 1..4 (mult[k-1] = M^k): four words
     * from one state, whose multiplications run in parallel rather than as a chain */
    u128 mult[4], add[4];
#endif
} source_t;

static int source_open(source_t *src, PyObject *capsule, int fast) {
    src->bitgen = (bitgen_t *)PyCapsule_GetPointer(capsule, "BitGenerator");
    if (src->bitgen == NULL)
        return -1;
#if HAVE_PCG64
    src->pcg = NULL;
    if (fast) {
        src->pcg = ((pcg64_state *)src->bitgen->state)->pcg_state;
        src->state = src->pcg->state;
        src->inc = src->pcg->inc;
        src->mult[0] = PCG64_MULTIPLIER;
        src->add[0] = src->inc;
        for (int k = 1; k < 4; k++) {
            src->mult[k] = src->mult[k - 1] * PCG64_MULTIPLIER;
            src->add[k] = src->add[k - 1] * PCG64_MULTIPLIER + src->inc;
        }
    }
#else
    if (fast) {
        PyErr_SetString(PyExc_ValueError, "fast PCG64 words are not built in");
        return -1;
    }
#endif
    return 0;
}

/* Write the inline state back: afterwards numpy's own calls continue the stream. */
static void source_close(source_t *src) {
#if HAVE_PCG64
    if (src->pcg != NULL)
        src->pcg->state = src->state;
#endif
}

#if HAVE_PCG64
/* The jump constants of a source, copied into locals so that the compiler keeps
 * them out of reach of the word stores. */
typedef struct {
    u128 m0, m1, m2, m3, a0, a1, a2, a3;
} jumps_t;

static inline jumps_t source_jumps(const source_t *src) {
    jumps_t j = {src->mult[0], src->mult[1], src->mult[2], src->mult[3],
                 src->add[0],  src->add[1],  src->add[2],  src->add[3]};
    return j;
}

/* Words 0..3 after `state` into out[0..3]; returns the state of the last one. */
static inline u128 pcg64_four(u128 state, const jumps_t *j, uint64_t *out) {
    u128 s0 = state * j->m0 + j->a0, s1 = state * j->m1 + j->a1,
         s2 = state * j->m2 + j->a2, s3 = state * j->m3 + j->a3;
    out[0] = pcg64_output(s0);
    out[1] = pcg64_output(s1);
    out[2] = pcg64_output(s2);
    out[3] = pcg64_output(s3);
    return s3;
}
#endif

static void source_fill(source_t *src, uint64_t *words, Py_ssize_t count) {
#if HAVE_PCG64
    if (src->pcg != NULL) {
        const jumps_t jumps = source_jumps(src);
        u128 state = src->state;
        Py_ssize_t i = 0;
        for (; i + 4 <= count; i += 4)
            state = pcg64_four(state, &jumps, words + i);
        for (; i < count; i++) {
            state = state * jumps.m0 + jumps.a0;
            words[i] = pcg64_output(state);
        }
        src->state = state;
        return;
    }
#endif
    for (Py_ssize_t i = 0; i < count; i++)
        words[i] = src->bitgen->next_raw(src->bitgen->state);
}

/* Words j..j+3 of `words`, those below `count`: for inline PCG64, four at a time
 * from one state (see source_t); otherwise one call each. Everything here is inline,
 * so a caller's local copy of the source stays in registers. */
static inline void source_fill4(source_t *src, uint64_t *words, int j, int count) {
    const int stop = count < j + 4 ? count : j + 4;
#if HAVE_PCG64
    if (src->pcg != NULL) {
        if (stop == j + 4) {
            const jumps_t jumps = source_jumps(src);
            src->state = pcg64_four(src->state, &jumps, words + j);
        } else {
            for (int w = j; w < stop; w++) {
                src->state = src->state * src->mult[0] + src->add[0];
                words[w] = pcg64_output(src->state);
            }
        }
        return;
    }
#endif
    for (int w = j; w < stop; w++)
        words[w] = src->bitgen->next_raw(src->bitgen->state);
}

/* The end of a block loop that drew from `local`, a copy of `src`. */
static inline void source_update(source_t *src, const source_t *local) {
#if HAVE_PCG64
    src->state = local->state;
#else
    (void)src;
    (void)local;
#endif
}

/* A double in [0, 1) as numpy's next_double draws it (for PCG64: the next word's top
 * 53 bits); for inline PCG64 it steps the inline state, before source_close. */
static inline double source_double(source_t *src) {
#if HAVE_PCG64
    if (src->pcg != NULL) {
        src->state = src->state * src->mult[0] + src->add[0];
        return (double)(pcg64_output(src->state) >> 11) * (1.0 / 9007199254740992.0);
    }
#endif
    return src->bitgen->next_double(src->bitgen->state);
}

/* Byte k (0 = least significant) of the little-endian words, on any host. */
static inline unsigned word_byte(const uint64_t *words, Py_ssize_t k) {
    return (unsigned)(words[k >> 3] >> (8 * (k & 7))) & 0xffu;
}

/* A growable list of positions (the ties). */
typedef struct {
    Py_ssize_t *items;
    Py_ssize_t count, capacity;
    int failed;
} positions_t;

/* Room for `capacity` positions before the list grows; -1 (MemoryError) on failure. */
static int positions_reserve(positions_t *p, Py_ssize_t capacity) {
    if (capacity <= p->capacity)
        return 0;
    Py_ssize_t *items = realloc(p->items, (size_t)capacity * sizeof(Py_ssize_t));
    if (items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    p->items = items;
    p->capacity = capacity;
    return 0;
}

static inline void positions_add(positions_t *p, Py_ssize_t value) {
    if (p->count == p->capacity) {
        Py_ssize_t capacity = p->capacity ? 2 * p->capacity : 1024;
        Py_ssize_t *items = realloc(p->items, (size_t)capacity * sizeof(Py_ssize_t));
        if (items == NULL) {
            p->failed = 1;
            return;
        }
        p->items = items;
        p->capacity = capacity;
    }
    p->items[p->count++] = value;
}

static void positions_reverse(Py_ssize_t *items, Py_ssize_t lo, Py_ssize_t hi) {
    for (hi--; lo < hi; lo++, hi--) {
        Py_ssize_t t = items[lo];
        items[lo] = items[hi];
        items[hi] = t;
    }
}

/* Ascending order for positions recorded as ascending runs, each run above the next
 * one (chunks selected downwards): reverse the list, then each descending run. */
static void positions_sort_runs(positions_t *p) {
    positions_reverse(p->items, 0, p->count);
    for (Py_ssize_t i = 0, j; i < p->count; i = j) {
        for (j = i + 1; j < p->count && p->items[j] < p->items[j - 1]; j++)
            ;
        positions_reverse(p->items, i, j);
    }
}

/* The positions base + b of the bits b set in `tied` (rare: out of the hot loops). */
static NOINLINE void positions_add_bits(positions_t *p, uint32_t tied,
                                        Py_ssize_t base) {
    for (; tied; tied &= tied - 1)
        positions_add(p, base + __builtin_ctz(tied));
}

/* Whether n int32 lengths are all >= 0 and add up to size. */
static int lengths_valid(const int32_t *lengths, Py_ssize_t n, Py_ssize_t size) {
    int64_t sum = 0;
    int negative = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        negative |= lengths[i] < 0;
        sum += lengths[i];
    }
    return !negative && sum == (int64_t)size;
}

static int check_whole(int whole, double fraction) {
    if (whole < 0 || whole > 256) {
        PyErr_Format(PyExc_ValueError, "threshold must lie in 0..256, got %d", whole);
        return -1;
    }
    if (!(fraction >= 0.0 && fraction < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "tie fraction must lie in [0, 1)");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ */
/* Itemwise: y[i] = x[i] when byte i keeps, else replacement.                      */

#if defined(__SSE2__)
/* 16 elements from 16 bytes; returns the bit mask of the ties among them. */
static inline unsigned select16(const uint8_t *bytes, const int64_t *x, int64_t *y,
                                __m128i threshold, __m128i tie, __m128i replacement) {
    const __m128i bias = _mm_set1_epi8((char)0x80);
    __m128i b = _mm_loadu_si128((const __m128i *)bytes);
    /* unsigned b < whole, as signed bytes after flipping the top bit */
    __m128i keep = _mm_cmplt_epi8(_mm_xor_si128(b, bias), threshold);
    __m128i w0 = _mm_unpacklo_epi8(keep, keep), w1 = _mm_unpackhi_epi8(keep, keep);
    __m128i d[4] = {_mm_unpacklo_epi16(w0, w0), _mm_unpackhi_epi16(w0, w0),
                    _mm_unpacklo_epi16(w1, w1), _mm_unpackhi_epi16(w1, w1)};
    for (int j = 0; j < 4; j++) {
        __m128i lo = _mm_unpacklo_epi32(d[j], d[j]),
                hi = _mm_unpackhi_epi32(d[j], d[j]);
        __m128i x0 = _mm_loadu_si128((const __m128i *)(x + 4 * j));
        __m128i x1 = _mm_loadu_si128((const __m128i *)(x + 4 * j + 2));
        _mm_storeu_si128(
            (__m128i *)(y + 4 * j),
            _mm_or_si128(_mm_and_si128(lo, x0), _mm_andnot_si128(lo, replacement)));
        _mm_storeu_si128(
            (__m128i *)(y + 4 * j + 2),
            _mm_or_si128(_mm_and_si128(hi, x1), _mm_andnot_si128(hi, replacement)));
    }
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, tie));
}
#endif

/* The elements [0, count) of a block (count <= BLOCK), whose bytes are `bytes`;
 * the ties are recorded at offset + k. */
static inline void select_block(const uint8_t *bytes, const int64_t *x, int64_t *y,
                                int count, unsigned whole, int64_t replacement,
                                int record, positions_t *ties, Py_ssize_t offset) {
    int k = 0;
#if defined(__SSE2__)
    const __m128i threshold = _mm_set1_epi8((char)(whole ^ 0x80u));
    const __m128i tie = _mm_set1_epi8((char)whole);
    const __m128i rep = _mm_set1_epi64x(replacement);
    for (; k + 16 <= count; k += 16) {
        unsigned tied = select16(bytes + k, x + k, y + k, threshold, tie, rep);
        if (record && tied) {
            for (int j = 0; j < 16; j++)
                if (tied & (1u << j))
                    positions_add(ties, offset + k + j);
        }
    }
#endif
    for (; k < count; k++) {
        int64_t mask = -(int64_t)(bytes[k] < whole);
        y[k] = (x[k] & mask) | (replacement & ~mask);
        if (record && bytes[k] == whole)
            positions_add(ties, offset + k);
    }
}

/* A full block of BLOCK elements, drawing the next block's `next_words` words
 * (at most BLOCK_WORDS) into `next`, four per 32 elements: the multiplications of
 * the generator then run while the loads and stores of the selection wait on
 * memory. */
static NOINLINE void select_full_block(const uint8_t *bytes, const int64_t *x,
                                       int64_t *y, unsigned whole, int64_t replacement,
                                       int record, positions_t *ties, Py_ssize_t offset,
                                       source_t *src, uint64_t *next, int next_words) {
    source_t local = *src;
    for (int k = 0, j = 0; k < BLOCK; k += 32, j += 4) {
        source_fill4(&local, next, j, next_words);
        select_block(bytes + k, x + k, y + k, 32, whole, replacement, record, ties,
                     offset + k);
    }
    source_update(src, &local);
}

#if HAVE_AVX2
/* 16 elements of select_full_block with 256-bit vectors. */
__attribute__((target("avx2"))) static inline unsigned
select16_avx2(const uint8_t *bytes, const int64_t *x, int64_t *y, __m128i threshold,
              __m128i tie, __m256i rep) {
    const __m128i bias = _mm_set1_epi8((char)0x80);
    __m128i b = _mm_loadu_si128((const __m128i *)bytes);
    __m128i keep = _mm_cmplt_epi8(_mm_xor_si128(b, bias), threshold);
    __m256i m0 = _mm256_cvtepi8_epi64(keep);
    __m256i m1 = _mm256_cvtepi8_epi64(_mm_srli_si128(keep, 4));
    __m256i m2 = _mm256_cvtepi8_epi64(_mm_srli_si128(keep, 8));
    __m256i m3 = _mm256_cvtepi8_epi64(_mm_srli_si128(keep, 12));
    _mm256_storeu_si256(
        (__m256i *)y,
        _mm256_blendv_epi8(rep, _mm256_loadu_si256((const __m256i *)x), m0));
    _mm256_storeu_si256(
        (__m256i *)(y + 4),
        _mm256_blendv_epi8(rep, _mm256_loadu_si256((const __m256i *)(x + 4)), m1));
    _mm256_storeu_si256(
        (__m256i *)(y + 8),
        _mm256_blendv_epi8(rep, _mm256_loadu_si256((const __m256i *)(x + 8)), m2));
    _mm256_storeu_si256(
        (__m256i *)(y + 12),
        _mm256_blendv_epi8(rep, _mm256_loadu_si256((const __m256i *)(x + 12)), m3));
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, tie));
}

#if HAVE_PCG64
/* select_full_block_avx2 for inline PCG64: four words per 32 elements (only the
 * next block's last words, when that block is partial, come one at a time), the
 * state and its jumps in registers. */
__attribute__((target("avx2"))) static inline void
select_pcg64_block_avx2(const uint8_t *bytes, const int64_t *x, int64_t *y,
                        __m128i threshold, __m128i tie, __m256i rep, int record,
                        positions_t *ties, Py_ssize_t offset, source_t *src,
                        uint64_t *next, int next_words) {
    const jumps_t jumps = source_jumps(src);
    u128 state = src->state;
    /* The chunks with ties, noted without a branch and recorded after the loop. */
    uint32_t tied_bits[BLOCK / 32];
    int tied_chunk[BLOCK / 32], tied_count = 0;
    for (int k = 0, j = 0; k < BLOCK; k += 32, j += 4) {
        if (j + 4 <= next_words) {
            state = pcg64_four(state, &jumps, next + j);
        } else {
            for (int w = j; w < next_words; w++) { /* the last, partial block's */
                state = state * jumps.m0 + jumps.a0;
                next[w] = pcg64_output(state);
            }
        }
        uint32_t tied = select16_avx2(bytes + k, x + k, y + k, threshold, tie, rep);
        tied |=
            select16_avx2(bytes + k + 16, x + k + 16, y + k + 16, threshold, tie, rep)
            << 16;
        tied_bits[tied_count] = tied;
        tied_chunk[tied_count] = k;
        tied_count += tied != 0;
    }
    src->state = state;
    for (int c = 0; record && c < tied_count; c++)
        positions_add_bits(ties, tied_bits[c], offset + tied_chunk[c]);
}
#endif

/* select_full_block with AVX2 (chosen at run time). */
__attribute__((target("avx2"))) static NOINLINE void
select_full_block_avx2(const uint8_t *bytes, const int64_t *x, int64_t *y,
                       unsigned whole, int64_t replacement, int record,
                       positions_t *ties, Py_ssize_t offset, source_t *src,
                       uint64_t *next, int next_words) {
    const __m128i threshold = _mm_set1_epi8((char)(whole ^ 0x80u));
    const __m128i tie = _mm_set1_epi8((char)whole);
    const __m256i rep = _mm256_set1_epi64x(replacement);
#if HAVE_PCG64
    if (src->pcg != NULL) {
        select_pcg64_block_avx2(bytes, x, y, threshold, tie, rep, record, ties, offset,
                                src, next, next_words);
        return;
    }
#endif
    source_t local = *src;
    for (int k = 0, j = 0; k < BLOCK; k += 32, j += 4) {
        source_fill4(&local, next, j, next_words);
        uint32_t tied = select16_avx2(bytes + k, x + k, y + k, threshold, tie, rep);
        tied |=
            select16_avx2(bytes + k + 16, x + k + 16, y + k + 16, threshold, tie, rep)
            << 16;
        if (record && tied)
            positions_add_bits(ties, tied, offset + k);
    }
    source_update(src, &local);
}

/* select_block with AVX2: the elements [0, count) of a block, count <= BLOCK. */
__attribute__((target("avx2"))) static NOINLINE void
select_block_avx2(const uint8_t *bytes, const int64_t *x, int64_t *y, int count,
                  unsigned whole, int64_t replacement, int record, positions_t *ties,
                  Py_ssize_t offset) {
    const __m128i threshold = _mm_set1_epi8((char)(whole ^ 0x80u));
    const __m128i tie = _mm_set1_epi8((char)whole);
    const __m256i rep = _mm256_set1_epi64x(replacement);
    int k = 0;
    for (; k + 16 <= count; k += 16) {
        uint32_t tied = select16_avx2(bytes + k, x + k, y + k, threshold, tie, rep);
        if (record && tied)
            positions_add_bits(ties, tied, offset + k);
    }
    select_block(bytes + k, x + k, y + k, count - k, whole, replacement, record, ties,
                 offset + k);
}

#if HAVE_PCG64
/* A full block whose 32-element chunks are selected from the last to the first
 * (ties recorded in ascending order within a chunk), drawing `next_words` (0 or
 * BLOCK_WORDS) words into `next` from `state`, four per chunk, in their order. */
__attribute__((target("avx2"))) static NOINLINE void
select_block_backward_avx2(const uint8_t *bytes, const int64_t *x, int64_t *y,
                           unsigned whole, int64_t replacement, int record,
                           positions_t *ties, Py_ssize_t offset, const jumps_t *jumps,
                           u128 state, uint64_t *next, int next_words) {
    const __m128i threshold = _mm_set1_epi8((char)(whole ^ 0x80u));
    const __m128i tie = _mm_set1_epi8((char)whole);
    const __m256i rep = _mm256_set1_epi64x(replacement);
    const jumps_t j4 = *jumps;
    uint32_t tied_bits[BLOCK / 32]; /* as in select_pcg64_block_avx2 */
    int tied_chunk[BLOCK / 32], tied_count = 0;
    for (int k = BLOCK - 32, j = 0; k >= 0; k -= 32, j += 4) {
        if (j < next_words)
            state = pcg64_four(state, &j4, next + j);
        uint32_t tied =
            select16_avx2(bytes + k + 16, x + k + 16, y + k + 16, threshold, tie, rep)
            << 16;
        tied |= select16_avx2(bytes + k, x + k, y + k, threshold, tie, rep);
        tied_bits[tied_count] = tied;
        tied_chunk[tied_count] = k;
        tied_count += tied != 0;
    }
    for (int c = tied_count - 1; record && c >= 0; c--) /* ascending in the block */
        positions_add_bits(ties, tied_bits[c], offset + tied_chunk[c]);
}

/* The itemwise selection from the last block to the first (see backward_from), for
 * inline PCG64 and AVX2. Block b's words start at starts[b] (room for one state per
 * block), found by jumping BLOCK_WORDS words at a time; afterwards the source is at
 * the state after all the words, as after a forward pass, and the ties are in
 * ascending order. */
static void itemwise_backward(source_t *src, u128 *starts, const int64_t *x, int64_t *y,
                              Py_ssize_t n, unsigned whole, int64_t replacement,
                              int record, positions_t *ties) {
    const Py_ssize_t blocks = (n + BLOCK - 1) / BLOCK;
    u128 jump_mult = src->mult[0], jump_add = src->add[0];
    for (int steps = 1; steps < BLOCK_WORDS; steps *= 2) {
        jump_add = jump_mult * jump_add + jump_add;
        jump_mult = jump_mult * jump_mult;
    }
    starts[0] = src->state;
    for (Py_ssize_t b = 1; b < blocks; b++)
        starts[b] = jump_mult * starts[b - 1] + jump_add;
    const jumps_t jumps = source_jumps(src);
    uint64_t words[2][BLOCK_WORDS];
    Py_ssize_t last_count = n - (blocks - 1) * BLOCK;
    src->state = starts[blocks - 1];
    source_fill(src, words[0], (last_count + 7) / 8); /* src is now past every word */
    int cur = 0;
    for (Py_ssize_t b = blocks - 1; b >= 0; b--, cur ^= 1) {
        const Py_ssize_t start = b * BLOCK;
        const uint8_t *bytes = (const uint8_t *)words[cur];
        const int next_words = b > 0 ? BLOCK_WORDS : 0;
        if (n - start >= BLOCK) {
            select_block_backward_avx2(
                bytes, x + start, y + start, whole, replacement, record, ties, start,
                &jumps, b > 0 ? starts[b - 1] : 0, words[cur ^ 1], next_words);
            continue;
        }
        if (next_words) { /* the partial last block: the next words first */
            source_t previous = *src;
            previous.state = starts[b - 1];
            source_fill(&previous, words[cur ^ 1], next_words);
        }
        select_block(bytes, x + start, y + start, (int)(n - start), whole, replacement,
                     record, ties, start);
    }
    positions_sort_runs(ties);
}
#endif
#endif

/* bytes of the words as uint8, least significant first, whatever the host order */
static const uint8_t *as_bytes(uint64_t *words, Py_ssize_t count) {
#if PY_LITTLE_ENDIAN
    (void)count;
    return (const uint8_t *)words;
#else
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t w = words[i], le = 0;
        for (int k = 0; k < 8; k++)
            le |= ((w >> (8 * k)) & 0xffu) << (8 * (7 - k));
        words[i] = le;
    }
    return (const uint8_t *)words;
#endif
}

/* A new writable int64 or int32 array from alloc(count) (a numpy.empty of that
 * dtype), with its buffer; NULL with an exception set if it is not `itemsize`-sized
 * items. */
static PyObject *new_array(PyObject *alloc, Py_ssize_t count, Py_ssize_t itemsize,
                           Py_buffer *view) {
    PyObject *array = PyObject_CallFunction(alloc, "n", count);
    if (array == NULL)
        return NULL;
    if (PyObject_GetBuffer(array, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(array);
        return NULL;
    }
    if (view->len != count * itemsize) {
        PyErr_Format(PyExc_ValueError,
                     "the allocator gave %zd bytes for %zd items of %zd bytes",
                     view->len, count, itemsize);
        PyBuffer_Release(view);
        Py_DECREF(array);
        return NULL;
    }
    return array;
}

/* Outputs are written through 64-byte aligned addresses (a vector store that
 * straddles two cache lines costs twice): an int64 output of `count` elements is the
 * view buffer[first : first + count] of a buffer ALIGN_SPARE elements longer. */
#define ALIGN_SPARE 7

/* The element at which the int64 buffer `base` reaches a 64-byte boundary. */
static Py_ssize_t aligned_start(const void *base) {
    uintptr_t address = (uintptr_t)base;
    if (address % 8 != 0)
        return 0;
    return (Py_ssize_t)(((64 - address % 64) % 64) / 8);
}

/* buffer[first : first + count], a new reference (NULL with an exception set). */
static PyObject *slice_of(PyObject *buffer, Py_ssize_t first, Py_ssize_t count) {
    PyObject *start = PyLong_FromSsize_t(first), *stop = NULL, *bounds = NULL,
             *view = NULL;
    if (start != NULL)
        stop = PyLong_FromSsize_t(first + count);
    if (stop != NULL)
        bounds = PySlice_New(start, stop, NULL);
    if (bounds != NULL)
        view = PyObject_GetItem(buffer, bounds);
    Py_XDECREF(start);
    Py_XDECREF(stop);
    Py_XDECREF(bounds);
    return view;
}

/* Caffe2 keeps an output's memory from one run of an op to the next; the ops do the
 * same where nothing can tell. `reuse` is None or (blobs, name, ndarray). When the
 * dict `blobs` holds at `name` an array of type `ndarray` (exactly) that nothing
 * else references, of int64 items, which owns its memory or is a view of such an
 * array that nothing else references either, and which holds between first + size
 * and `most` items (first: where the memory reaches a 64-byte boundary), the owner
 * is returned (a new reference) with its writable buffer in `view` and `first` set.
 * Otherwise NULL, always without an exception. The caller writes the output there
 * without releasing the GIL, so no one can take a reference meanwhile. */
static PyObject *reusable(PyObject *reuse, Py_ssize_t size, Py_ssize_t most,
                          Py_buffer *view, Py_ssize_t *first) {
#if defined(Py_GIL_DISABLED)
    (void)reuse, (void)size, (void)most, (void)view, (void)first;
    return NULL; /* reference counts are not exact without the GIL */
#else
    PyObject *blobs, *name, *ndarray, *owner = NULL, *base, *flags = NULL, *owns = NULL;
    if (reuse == Py_None || !PyTuple_Check(reuse) ||
        !PyArg_ParseTuple(reuse, "OOO", &blobs, &name, &ndarray) ||
        !PyDict_CheckExact(blobs))
        goto none;
    PyObject *old = PyDict_GetItemWithError(blobs, name); /* borrowed */
    if (old == NULL || (PyObject *)Py_TYPE(old) != ndarray || Py_REFCNT(old) != 1)
        goto none;
    base = PyObject_GetAttrString(old, "base");
    if (base == NULL)
        goto none;
    if (base == Py_None) {
        Py_DECREF(base);
        owner = old;
        Py_INCREF(owner);
    } else {
        owner = base; /* referenced by old and by this function */
        if ((PyObject *)Py_TYPE(owner) != ndarray || Py_REFCNT(owner) != 2)
            goto none;
        PyObject *deeper = PyObject_GetAttrString(owner, "base");
        int owns_memory = deeper == Py_None;
        Py_XDECREF(deeper);
        if (!owns_memory)
            goto none;
    }
    flags = PyObject_GetAttrString(owner, "flags");
    if (flags != NULL)
        owns = PyObject_GetAttrString(flags, "owndata");
    if (owns != Py_True)
        goto none;
    if (PyObject_GetBuffer(owner, view, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_ND) < 0)
        goto none;
    const char *format = view->format == NULL ? "B" : view->format;
    int int64 =
        view->itemsize == 8 &&
        (strcmp(format, "q") == 0 || (strcmp(format, "l") == 0 && sizeof(long) == 8));
    Py_ssize_t capacity = view->len / 8;
    *first = aligned_start(view->buf);
    if (!int64 || view->ndim != 1 || *first + size > capacity || capacity > most) {
        PyBuffer_Release(view);
        goto none;
    }
    Py_DECREF(flags);
    Py_DECREF(owns);
    return owner;
none:
    PyErr_Clear();
    Py_XDECREF(owner);
    Py_XDECREF(flags);
    Py_XDECREF(owns);
    return NULL;
#endif
}

PyDoc_STRVAR(
    itemwise_doc,
    "itemwise(capsule, fast, x, lengths, whole, fraction, replacement, empty64,\n"
    "         reuse) -> y | None\n\n"
    "Check the int32 lengths (none negative, sum == len(x)); when they are wrong\n"
    "return None before drawing anything. Otherwise return y (int64, as long as x):\n"
    "x's elements, each replaced by `replacement` when its decision drops.\n"
    "ceil(len(x) / 8) words are drawn, then one next_double per tie. y is a 64-byte\n"
    "aligned view of the memory of the previous output that `reuse` (None or\n"
    "(blobs, name, ndarray)) names, when nothing else can see it and it holds at most\n"
    "len(x) + 7 items, else of empty64(len(x) + 7).");

static PyObject *itemwise(PyObject *self, PyObject *args) {
    PyObject *capsule, *empty64, *reuse;
    int fast, whole;
    double fraction;
    long long replacement_ll;
    Py_buffer xb, lb, yb = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "Opy*y*idLOO", &capsule, &fast, &xb, &lb, &whole,
                          &fraction, &replacement_ll, &empty64, &reuse))
        return NULL;
    PyObject *result = NULL, *buffer = NULL, *y_view = NULL;
    positions_t ties = {NULL, 0, 0, 0};
    source_t src = {0};
    if (xb.len % 8 != 0 || lb.len % 4 != 0) {
        PyErr_Format(PyExc_ValueError,
                     "itemwise: x must be int64 and lengths int32 (%zd and %zd bytes)",
                     xb.len, lb.len);
        goto done;
    }
    if (check_whole(whole, fraction) < 0)
        goto done;
    if (!lengths_valid((const int32_t *)lb.buf, lb.len / 4, xb.len / 8)) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (source_open(&src, capsule, fast) < 0)
        goto done;
    const Py_ssize_t n = xb.len / 8;
    Py_ssize_t first = 0;
    buffer = reusable(reuse, n, n + ALIGN_SPARE, &yb, &first);
    const int reused = buffer != NULL;
    if (!reused) {
        buffer = new_array(empty64, n + ALIGN_SPARE, 8, &yb);
        if (buffer == NULL)
            goto done;
        first = aligned_start(yb.buf);
    }
    /* Everything that can fail comes before the first write: a reused output is
     * left as it was by a failure. The tie list is reserved for four times the ties
     * expected (one in 256 elements), so that it grows only with a generator that
     * is not random. */
    y_view = slice_of(buffer, first, n);
    if (y_view == NULL || positions_reserve(&ties, n / 64 + 64) < 0)
        goto done;
#if HAVE_AVX2 && HAVE_PCG64 && PY_LITTLE_ENDIAN
    u128 *starts = NULL;
    if (!reused && n > 0 && n >= backward_from && avx2_enabled && src.pcg != NULL &&
        whole < 256) {
        starts = malloc((size_t)((n + BLOCK - 1) / BLOCK) * sizeof(u128));
        if (starts == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
#endif
    {
        const int64_t *x = (const int64_t *)xb.buf;
        int64_t *y = (int64_t *)yb.buf + first;
        const int64_t replacement = (int64_t)replacement_ll;
        const int record = fraction != 0.0;
        uint64_t words[2][BLOCK_WORDS];
#if HAVE_AVX2
        const int use_avx2 = avx2_enabled;
#endif
        PyThreadState *released =
            !reused && n >= RELEASE_GIL_AT ? PyEval_SaveThread() : NULL;
        if (whole == 256) {
            /* 1 - ratio rounded to 1: every byte keeps (and none ties), but the
             * words are drawn all the same. */
            for (Py_ssize_t start = 0; start < n; start += BLOCK) {
                Py_ssize_t count = n - start < BLOCK ? n - start : BLOCK;
                source_fill(&src, words[0], (count + 7) / 8);
            }
            memcpy(y, x, (size_t)n * 8);
#if HAVE_AVX2 && HAVE_PCG64 && PY_LITTLE_ENDIAN
        } else if (starts != NULL) {
            itemwise_backward(&src, starts, x, y, n, (unsigned)whole, replacement,
                              record, &ties);
            free(starts);
#endif
        } else {
            /* Block b's words are drawn while block b - 1 is selected: block 0's here.
             */
            Py_ssize_t first_count = n < BLOCK ? n : BLOCK;
            source_fill(&src, words[0], (first_count + 7) / 8);
            for (Py_ssize_t start = 0, b = 0; start < n; start += BLOCK, b ^= 1) {
                Py_ssize_t count = n - start < BLOCK ? n - start : BLOCK;
                Py_ssize_t after = n - start - count;
                Py_ssize_t next_words = ((after < BLOCK ? after : BLOCK) + 7) / 8;
                const uint8_t *bytes = as_bytes(words[b], (count + 7) / 8);
                if (next_words == 0) {
#if HAVE_AVX2
                    if (use_avx2) {
                        select_block_avx2(bytes, x + start, y + start, (int)count,
                                          (unsigned)whole, replacement, record, &ties,
                                          start);
                        continue;
                    }
#endif
                    select_block(bytes, x + start, y + start, (int)count,
                                 (unsigned)whole, replacement, record, &ties, start);
                    continue;
                }
                /* A full block (only the last may be partial). */
#if HAVE_AVX2
                if (use_avx2) {
                    select_full_block_avx2(bytes, x + start, y + start, (unsigned)whole,
                                           replacement, record, &ties, start, &src,
                                           words[b ^ 1], (int)next_words);
                    continue;
                }
#endif
                select_full_block(bytes, x + start, y + start, (unsigned)whole,
                                  replacement, record, &ties, start, &src, words[b ^ 1],
                                  (int)next_words);
            }
        }
        if (!ties.failed) {
            for (Py_ssize_t t = 0; t < ties.count; t++) {
                Py_ssize_t i = ties.items[t];
                y[i] = source_double(&src) < fraction ? x[i] : replacement;
            }
        }
        source_close(&src);
        if (released != NULL)
            PyEval_RestoreThread(released);
        if (ties.failed) {
            PyErr_NoMemory();
            goto done;
        }
    }
    result = y_view;
    y_view = NULL;
done:
    if (yb.obj != NULL)
        PyBuffer_Release(&yb);
    Py_XDECREF(y_view);
    Py_XDECREF(buffer);
    free(ties.items);
    PyBuffer_Release(&xb);
    PyBuffer_Release(&lb);
    return result;
}

/* ------------------------------------------------------------------------------ */
/* Segments: a decision per segment, then the kept segments copied run by run.      */

/* Copy n int64 from src to dst (n >= 0, no overlap). The runs are short (a few
 * hundred elements) and start anywhere, where a library memcpy loses time choosing
 * its strategy and storing across cache lines: here the stores are aligned to the
 * vector size after one unaligned head, and an unaligned tail ends the run (both
 * rewrite a few elements of the run with the same values). */
#if defined(__SSE2__)
static inline void copy_run(int64_t *dst, const int64_t *src, int64_t n) {
    if (n < 4) {
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[i];
        return;
    }
    _mm_storeu_si128((__m128i *)dst, _mm_loadu_si128((const __m128i *)src));
    int64_t i = ((uintptr_t)dst / 8) & 1; /* dst + i is 16-byte aligned */
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 2));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 4));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 6));
        _mm_storeu_si128((__m128i *)(dst + i), a);
        _mm_storeu_si128((__m128i *)(dst + i + 2), b);
        _mm_storeu_si128((__m128i *)(dst + i + 4), c);
        _mm_storeu_si128((__m128i *)(dst + i + 6), d);
    }
    for (; i + 2 <= n; i += 2)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm_loadu_si128((const __m128i *)(src + i)));
    if (i < n)
        _mm_storeu_si128((__m128i *)(dst + n - 2),
                         _mm_loadu_si128((const __m128i *)(src + n - 2)));
}
#else
static inline void copy_run(int64_t *dst, const int64_t *src, int64_t n) {
    memcpy(dst, src, (size_t)n * 8);
}
#endif

/* Copy the kept segments of x into y run by run and write the slots and the output
 * lengths; y holds exactly the output (the caller computed its size). Inlined into
 * each caller with its own copy_run. */
static inline __attribute__((always_inline)) void
segment_fill_with(const int64_t *x, const int32_t *lengths, const uint8_t *keep,
                  Py_ssize_t n, int64_t replacement, int64_t *y, int32_t *out_lengths,
                  void (*copy)(int64_t *, const int64_t *, int64_t)) {
    int64_t src = 0, dst = 0, run_src = 0, run_dst = 0, run_len = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t length = lengths[i];
        if (keep[i]) {
            out_lengths[i] = (int32_t)length;
            run_len += length;
        } else {
            copy(y + run_dst, x + run_src, run_len);
            y[dst + run_len] = replacement;
            out_lengths[i] = 1;
            dst += run_len + 1;
            run_dst = dst;
            run_src = src + length;
            run_len = 0;
        }
        src += length;
    }
    copy(y + run_dst, x + run_src, run_len);
}

static NOINLINE void segment_fill(const int64_t *x, const int32_t *lengths,
                                  const uint8_t *keep, Py_ssize_t n,
                                  int64_t replacement, int64_t *y,
                                  int32_t *out_lengths) {
    segment_fill_with(x, lengths, keep, n, replacement, y, out_lengths, copy_run);
}

#if HAVE_AVX2
/* copy_run with 256-bit vectors. */
__attribute__((target("avx2"))) static inline void
copy_run_avx2(int64_t *dst, const int64_t *src, int64_t n) {
    if (n < 4) {
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[i];
        return;
    }
    _mm256_storeu_si256((__m256i *)dst, _mm256_loadu_si256((const __m256i *)src));
    int64_t i = (4 - ((uintptr_t)dst / 8) % 4) % 4; /* dst + i is 32-byte aligned */
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 4));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 8));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 12));
        _mm256_storeu_si256((__m256i *)(dst + i), a);
        _mm256_storeu_si256((__m256i *)(dst + i + 4), b);
        _mm256_storeu_si256((__m256i *)(dst + i + 8), c);
        _mm256_storeu_si256((__m256i *)(dst + i + 12), d);
    }
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm256_loadu_si256((const __m256i *)(src + i)));
    if (i < n)
        _mm256_storeu_si256((__m256i *)(dst + n - 4),
                            _mm256_loadu_si256((const __m256i *)(src + n - 4)));
}

__attribute__((target("avx2"))) static NOINLINE void
segment_fill_avx2(const int64_t *x, const int32_t *lengths, const uint8_t *keep,
                  Py_ssize_t n, int64_t replacement, int64_t *y, int32_t *out_lengths) {
    segment_fill_with(x, lengths, keep, n, replacement, y, out_lengths, copy_run_avx2);
}

/* copy_run_avx2 from the end of the run to its start. */
__attribute__((target("avx2"))) static inline void
copy_run_back_avx2(int64_t *dst, const int64_t *src, int64_t n) {
    if (n < 4) {
        for (int64_t i = n - 1; i >= 0; i--)
            dst[i] = src[i];
        return;
    }
    _mm256_storeu_si256((__m256i *)(dst + n - 4),
                        _mm256_loadu_si256((const __m256i *)(src + n - 4)));
    int64_t i = n - (int64_t)(((uintptr_t)(dst + n) / 8) % 4); /* dst + i: aligned */
    for (; i >= 16; i -= 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i - 4));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i - 8));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i - 12));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i - 16));
        _mm256_storeu_si256((__m256i *)(dst + i - 4), a);
        _mm256_storeu_si256((__m256i *)(dst + i - 8), b);
        _mm256_storeu_si256((__m256i *)(dst + i - 12), c);
        _mm256_storeu_si256((__m256i *)(dst + i - 16), d);
    }
    for (; i >= 4; i -= 4)
        _mm256_storeu_si256((__m256i *)(dst + i - 4),
                            _mm256_loadu_si256((const __m256i *)(src + i - 4)));
    if (i > 0)
        _mm256_storeu_si256((__m256i *)dst, _mm256_loadu_si256((const __m256i *)src));
}

/* segment_fill from the last segment to the first (see backward_from); y holds the
 * `size` elements of the output, x the `nx` of the input. */
__attribute__((target("avx2"))) static NOINLINE void
segment_fill_backward_avx2(const int64_t *x, Py_ssize_t nx, const int32_t *lengths,
                           const uint8_t *keep, Py_ssize_t n, int64_t replacement,
                           int64_t *y, Py_ssize_t size, int32_t *out_lengths) {
    int64_t src = nx, dst = size, run_len = 0;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        int64_t length = lengths[i];
        src -= length;
        if (keep[i]) {
            out_lengths[i] = (int32_t)length;
            run_len += length;
        } else {
            copy_run_back_avx2(y + dst - run_len, x + src + length, run_len);
            dst -= run_len + 1;
            y[dst] = replacement;
            out_lengths[i] = 1;
            run_len = 0;
        }
    }
    copy_run_back_avx2(y, x, run_len); /* src and dst - run_len are 0 here */
}

#endif

PyDoc_STRVAR(
    segment_doc,
    "segment(capsule, fast, x, lengths, whole, fraction, replacement, empty64,\n"
    "        empty32, step, reuse) -> (y, out_lengths) | False | None\n\n"
    "SparseDropoutWithReplacement on int64 x and int32 lengths. Returns None, having\n"
    "drawn nothing, when the lengths are negative or do not add up to len(x); False\n"
    "when every segment is kept. Otherwise y is the 64-byte aligned view of size\n"
    "elements of empty64(capacity + 7), capacity being the output size rounded up to\n"
    "a multiple of step, or of the previous output's memory (see itemwise) when it\n"
    "holds at most capacity + step + 7 items; out_lengths is empty32(len(lengths)).");

static PyObject *segment(PyObject *self, PyObject *args) {
    PyObject *capsule, *empty64, *empty32, *reuse;
    int fast, whole;
    double fraction;
    long long replacement_ll;
    Py_ssize_t step;
    Py_buffer xb, lb;
    (void)self;
    if (!PyArg_ParseTuple(args, "Opy*y*idLOOnO", &capsule, &fast, &xb, &lb, &whole,
                          &fraction, &replacement_ll, &empty64, &empty32, &step,
                          &reuse))
        return NULL;
    PyObject *result = NULL, *buffer = NULL, *out_lengths = NULL, *y_view = NULL;
    Py_buffer yb = {0}, ob = {0};
    positions_t ties = {NULL, 0, 0, 0};
    uint64_t *words = NULL;
    uint8_t *keep = NULL;
    source_t src = {0};
    const Py_ssize_t n = lb.len / 4, nx = xb.len / 8;
    if (xb.len % 8 != 0 || lb.len % 4 != 0 || step < 1) {
        PyErr_Format(PyExc_ValueError,
                     "segment: x must be int64 and lengths int32 "
                     "(%zd and %zd bytes), step >= 1",
                     xb.len, lb.len);
        goto done;
    }
    if (check_whole(whole, fraction) < 0)
        goto done;
    const int32_t *lengths = (const int32_t *)lb.buf;
    if (!lengths_valid(lengths, n, nx)) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    const Py_ssize_t nwords = (n + 7) / 8;
    words = malloc((size_t)(nwords ? nwords : 1) * sizeof(uint64_t));
    keep = malloc((size_t)(n ? n : 1));
    if (words == NULL || keep == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (source_open(&src, capsule, fast) < 0)
        goto done;
    source_fill(&src, words, nwords);
    const int record = fraction != 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned byte = word_byte(words, i);
        keep[i] = byte < (unsigned)whole;
        if (record && byte == (unsigned)whole)
            positions_add(&ties, i);
    }
    if (ties.failed) {
        source_close(&src);
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < ties.count; t++)
        keep[ties.items[t]] = source_double(&src) < fraction;
    source_close(&src);
    Py_ssize_t size = 0, dropped = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        size += keep[i] ? lengths[i] : 1;
        dropped += !keep[i];
    }
    if (dropped == 0) {
        result = Py_False;
        Py_INCREF(result);
        goto done;
    }
    /* A previous output is reused up to one size class above this one's. */
    const Py_ssize_t capacity = (size + step - 1) / step * step;
    Py_ssize_t first = 0;
    buffer = reusable(reuse, size, capacity + step + ALIGN_SPARE, &yb, &first);
    const int reused = buffer != NULL;
    if (!reused) {
        buffer = new_array(empty64, capacity + ALIGN_SPARE, 8, &yb);
        if (buffer == NULL)
            goto done;
        first = aligned_start(yb.buf);
    }
    /* Everything that can fail comes before the first write (see itemwise). */
    out_lengths = new_array(empty32, n, 4, &ob);
    if (out_lengths == NULL)
        goto done;
    y_view = slice_of(buffer, first, size);
    if (y_view == NULL)
        goto done;
    {
        PyThreadState *released =
            !reused && nx >= RELEASE_GIL_AT ? PyEval_SaveThread() : NULL;
        const int64_t *x = (const int64_t *)xb.buf;
        int64_t *y = (int64_t *)yb.buf + first;
        const int64_t replacement = (int64_t)replacement_ll;
#if HAVE_AVX2
        if (avx2_enabled && !reused && size >= backward_from)
            segment_fill_backward_avx2(x, nx, lengths, keep, n, replacement, y, size,
                                       (int32_t *)ob.buf);
        else if (avx2_enabled)
            segment_fill_avx2(x, lengths, keep, n, replacement, y, (int32_t *)ob.buf);
        else
#endif
            segment_fill(x, lengths, keep, n, replacement, y, (int32_t *)ob.buf);
        if (released != NULL)
            PyEval_RestoreThread(released);
    }
    result = PyTuple_Pack(2, y_view, out_lengths);
done:
    if (yb.obj != NULL)
        PyBuffer_Release(&yb);
    if (ob.obj != NULL)
        PyBuffer_Release(&ob);
    Py_XDECREF(y_view);
    Py_XDECREF(buffer);
    Py_XDECREF(out_lengths);
    free(words);
    free(keep);
    free(ties.items);
    PyBuffer_Release(&xb);
    PyBuffer_Release(&lb);
    return result;
}

/* ------------------------------------------------------------------------------ */
/* Checks used by ops/_speedups.py before it trusts fast=1.                        */

PyDoc_STRVAR(
    pcg64_state_doc,
    "pcg64_state(capsule) -> (state_high, state_low, inc_high, inc_low)\n\n"
    "The 128-bit state and increment of a numpy PCG64 as 64-bit halves, read through\n"
    "the layout this module assumes (None when it has no 128-bit integers).");

static PyObject *pcg64_state_of(PyObject *self, PyObject *capsule) {
    (void)self;
    bitgen_t *bitgen = (bitgen_t *)PyCapsule_GetPointer(capsule, "BitGenerator");
    if (bitgen == NULL)
        return NULL;
#if HAVE_PCG64
    pcg64_random_t *pcg = ((pcg64_state *)bitgen->state)->pcg_state;
    return Py_BuildValue("(KKKK)", (unsigned long long)(pcg->state >> 64),
                         (unsigned long long)pcg->state,
                         (unsigned long long)(pcg->inc >> 64),
                         (unsigned long long)pcg->inc);
#else
    Py_RETURN_NONE;
#endif
}

PyDoc_STRVAR(raw_words_doc, "raw_words(capsule, fast, count) -> bytes\n\n"
                            "count raw 64-bit words (native byte order), as itemwise "
                            "and segment draw them.");

static PyObject *raw_words(PyObject *self, PyObject *args) {
    PyObject *capsule;
    int fast;
    Py_ssize_t count;
    source_t src = {0};
    (void)self;
    if (!PyArg_ParseTuple(args, "Opn", &capsule, &fast, &count))
        return NULL;
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "raw_words: count must be >= 0");
        return NULL;
    }
    if (source_open(&src, capsule, fast) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, count * 8);
    if (out == NULL)
        return NULL;
    source_fill(&src, (uint64_t *)PyBytes_AS_STRING(out), count);
    source_close(&src);
    return out;
}

PyDoc_STRVAR(
    select_avx2_doc,
    "select_avx2(flag) -> bool\n\n"
    "Use the AVX2 selection when flag is true and the processor has AVX2 (the "
    "default),\n"
    "the SSE2/portable one otherwise; returns the previous setting. For tests.");

static PyObject *select_avx2(PyObject *self, PyObject *flag) {
    (void)self;
    int wanted = PyObject_IsTrue(flag);
    if (wanted < 0)
        return NULL;
#if HAVE_AVX2
    int previous = avx2_enabled;
    avx2_enabled = wanted && __builtin_cpu_supports("avx2");
    return PyBool_FromLong(previous);
#else
    Py_RETURN_FALSE;
#endif
}

PyDoc_STRVAR(
    backward_from_doc,
    "set_backward_from(count) -> int\n\n"
    "Write outputs of at least `count` elements that are not reused from the\n"
    "last element to the first (with AVX2; itemwise with inline PCG64 words);\n"
    "returns the previous setting (4 Mi elements at import). For tests.");

static PyObject *set_backward_from(PyObject *self, PyObject *count) {
    (void)self;
    Py_ssize_t wanted = PyLong_AsSsize_t(count);
    if (wanted == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t previous = backward_from;
    backward_from = wanted;
    return PyLong_FromSsize_t(previous);
}

static PyMethodDef methods[] = {
    {"set_backward_from", set_backward_from, METH_O, backward_from_doc},
    {"select_avx2", select_avx2, METH_O, select_avx2_doc},
    {"itemwise", itemwise, METH_VARARGS, itemwise_doc},
    {"segment", segment, METH_VARARGS, segment_doc},
    {"pcg64_state", pcg64_state_of, METH_O, pcg64_state_doc},
    {"raw_words", raw_words, METH_VARARGS, raw_words_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_caffe2lite_speedups",
    "Optional compiled kernels of caffe2lite's sparse dropout ops (see "
    "ops/_speedups.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__caffe2lite_speedups(void) {
#if HAVE_AVX2
    __builtin_cpu_init();
    avx2_enabled = __builtin_cpu_supports("avx2");
#endif
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0 ||
        PyModule_AddIntConstant(m, "PCG64", HAVE_PCG64) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
