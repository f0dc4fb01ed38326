/*
 * _caffe2lite_embedding: the optional compiled kernels of caffe2lite's embedding
 * reductions (SparseLengthsSum / Mean / WeightedSum on float16, float32 and float64
 * tables, their fused 8-, 4- and 2-bit rowwise variants) and of the gradients that
 * tile the output gradient per index.
 *
 * One pass: each segment's output row is zeroed, then every looked-up table row is
 * added into it in index order (sequentially, one rounding per addition), then a
 * mean is scaled. Nothing is gathered into a temporary. ops/_embedding_native.py
 * loads the module; without it the numpy kernels compute the same values with the
 * same roundings in the same order (see ops/segment/_segment_kernels.py,
 * sequential_sums), so the two give identical arrays.
 *
 * The arithmetic is fixed so that numpy can reproduce it:
 *   float rows:  acc += x            weighted: acc += (w * x)
 *   fused rows:  acc += ((s * code) + b)  with s = w * scale, b = w * bias when
 *                weighted (the scale and bias of the row, float32)
 *   mean:        acc *= 1.0f / (float)length  (1.0 / length for float64)
 * Products are never fused into additions (fp-contract off below), float16 values
 * are widened exactly to float32 first.
 *
 * Contract with the Python side: every function returns None, having written
 * nothing visible, when an input is not exactly what it handles (not a C-contiguous
 * numpy array of the expected type and rank, a negative length, lengths that do not
 * add up to the number of indices, an index outside the table): the caller then
 * runs the numpy checks, which raise Caffe2's error, or the numpy kernel. Each
 * index is checked before its row is read, so nothing is ever read out of bounds.
 * Only the buffer protocol is used (no numpy headers). The GIL is released around
 * loops over enough elements.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#else
#define HAVE_SSE2 0
#endif

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Bumped whenever a function's arguments or meaning change: ops/_embedding_native.py
 * only uses a module of its own interface. */
#define INTERFACE 1

/* Elements written from which the GIL is released. */
#define RELEASE_GIL_AT 32768
/* Indices ahead whose table rows are prefetched (within a segment), and pairs of
 * segments ahead whose first PREFETCH_AHEAD rows are prefetched. Measured at 160k
 * ids on a 100000 x 16 table: 8 and 3 were best (16 rows a segment ahead is as slow
 * as no prefetching: the requests outnumber the line fill buffers). */
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 8
#endif
#ifndef PAIRS_AHEAD
#define PAIRS_AHEAD 3
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define PREFETCH(p) ((void)0)
#endif

/* Set by configure(): numpy's ndarray type, numpy.empty, float32 and float64. */
static PyObject *ndarray_type, *empty_fn, *dtype_f32, *dtype_f64;

enum kind { K_NONE, K_F16, K_F32, K_F64, K_I32, K_I64, K_U8 };

static enum kind kind_of(const Py_buffer *v) {
    const char *f = v->format;
    if (f == NULL || f[0] == '\0')
        return K_NONE;
    if (f[0] == '@' || f[0] == '=')
        f++;
#if PY_LITTLE_ENDIAN
    else if (f[0] == '<')
        f++;
#endif
    if (f[0] == '\0' || f[1] != '\0')
        return K_NONE;
    switch (f[0]) {
    case 'e':
        return v->itemsize == 2 ? K_F16 : K_NONE;
    case 'f':
        return v->itemsize == 4 ? K_F32 : K_NONE;
    case 'd':
        return v->itemsize == 8 ? K_F64 : K_NONE;
    case 'B':
        return v->itemsize == 1 ? K_U8 : K_NONE;
    case 'i':
    case 'l':
    case 'q':
        return v->itemsize == 4 ? K_I32 : v->itemsize == 8 ? K_I64 : K_NONE;
    default:
        return K_NONE;
    }
}

/* A C-contiguous buffer of a numpy array, or 0 (no error set) when there is none. */
static int get_buffer(PyObject *obj, Py_buffer *v, int flags) {
    if (ndarray_type == NULL || !PyObject_TypeCheck(obj, (PyTypeObject *)ndarray_type))
        return 0;
    if (PyObject_GetBuffer(obj, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | flags) < 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* The buffers one call holds; released together. */
typedef struct {
    Py_buffer v[6];
    int n;
} held_t;

static Py_buffer *hold(held_t *h, PyObject *obj, int flags) {
    if (!get_buffer(obj, &h->v[h->n], flags))
        return NULL;
    return &h->v[h->n++];
}

static void release_all(held_t *h) {
    while (h->n > 0)
        PyBuffer_Release(&h->v[--h->n]);
}

/* Product of the dimensions after the first (the elements of one row). */
static Py_ssize_t row_size(const Py_buffer *v) {
    Py_ssize_t block = 1;
    for (int d = 1; d < v->ndim; d++)
        block *= v->shape[d];
    return block;
}

/* sum(lengths), or -1 when a length is negative. */
static long long lengths_total(const int32_t *lengths, Py_ssize_t m) {
    long long total = 0;
    int32_t low = 0;
    for (Py_ssize_t s = 0; s < m; s++) {
        total += lengths[s];
        low |= lengths[s];
    }
    return low < 0 ? -1 : total;
}

/* numpy.empty((first,) + shape[1:] of `like` (or (first, second) when like is
 * NULL), dtype), and its writable buffer in *out. NULL with an error set when the
 * allocation failed, NULL without one when the size is beyond reason. */
static PyObject *new_array(Py_ssize_t first, const Py_buffer *like, Py_ssize_t second,
                           PyObject *dtype, Py_buffer *out) {
    int ndim = like ? (like->ndim < 1 ? 1 : like->ndim) : 2;
    PyObject *shape = PyTuple_New(ndim), *array = NULL;
    if (shape == NULL)
        return NULL;
    PyObject *dim = PyLong_FromSsize_t(first);
    if (dim == NULL)
        goto done;
    PyTuple_SET_ITEM(shape, 0, dim);
    for (int d = 1; d < ndim; d++) {
        dim = PyLong_FromSsize_t(like ? like->shape[d] : second);
        if (dim == NULL)
            goto done;
        PyTuple_SET_ITEM(shape, d, dim);
    }
    array = PyObject_CallFunctionObjArgs(empty_fn, shape, dtype, NULL);
    if (array != NULL &&
        PyObject_GetBuffer(array, out, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        Py_CLEAR(array);
    }
done:
    Py_DECREF(shape);
    return array;
}

/* float16 bits -> float32, exactly (numpy's conversion). */
static inline float h2f(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = h & 0x7c00u, m = h & 0x03ffu, bits;
    float f;
    if (e == 0x7c00u)
        bits = sign | 0x7f800000u | (m << 13);
    else if (e != 0)
        bits = sign | ((e + 0x1c000u) << 13) | (m << 13);
    else if (m == 0)
        bits = sign;
    else {
        f = (float)m * 5.9604644775390625e-08f; /* m * 2^-24, exact */
        return sign ? -f : f;
    }
    memcpy(&f, &bits, 4);
    return f;
}

#define LOAD_SELF(x) (x)
#define LOAD_HALF(x) h2f(x)
#define RECIP_F(len) (1.0f / (float)(len))
#define RECIP_D(len) (1.0 / (double)(len))

/* Prefetch the lines of one table row (at most 8). */
static inline void prefetch_row(const char *row, Py_ssize_t bytes) {
    if (bytes > 512)
        bytes = 512;
    for (Py_ssize_t b = 0; b < bytes; b += 64)
        PREFETCH(row + b);
    PREFETCH(row + bytes - 1);
}

/* Columns summed at once in registers (a tile of the output row). */
#define TILE_W 16

/* Whether every index lies in [0, rows). */
#define INDICES_IN_RANGE(NAME, ITYPE)                                                  \
    static int NAME(const ITYPE *idx, Py_ssize_t n, Py_ssize_t rows) {                 \
        uint64_t worst = 0;                                                            \
        for (Py_ssize_t j = 0; j < n; j++) {                                           \
            uint64_t u = (uint64_t)(int64_t)idx[j];                                    \
            worst = u > worst ? u : worst;                                             \
        }                                                                              \
        return n == 0 || worst < (uint64_t)rows;                                       \
    }

INDICES_IN_RANGE(in_range_i32, int32_t)
INDICES_IN_RANGE(in_range_i64, int64_t)

/* The float-table lookups: returns 0, or -1 at the first index out of range. A
 * segment's output row is computed tile by tile: TILE_W columns accumulate in
 * registers over all the segment's rows (each column still adds in index order);
 * the first tile checks the indices and prefetches rows ahead. */
#define FLOAT_LOOKUP(NAME, TIN, TOUT, LOAD, RECIP, ITYPE, IN_RANGE)                    \
    static int NAME(const TIN *data, Py_ssize_t rows, Py_ssize_t block,                \
                    const ITYPE *idx, Py_ssize_t n, const int32_t *lengths,            \
                    Py_ssize_t m, const TOUT *w, int mean, TOUT *out) {                \
        const Py_ssize_t bytes = block * (Py_ssize_t)sizeof(TIN);                      \
        if (block == 0)                                                                \
            return IN_RANGE(idx, n, rows) ? 0 : -1;                                    \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            TOUT *o = out + s * block;                                                 \
            const ITYPE *si = idx + j;                                                 \
            const TOUT *sw = w != NULL ? w + j : NULL;                                 \
            const Py_ssize_t len = lengths[s];                                         \
            if (len < 0 || len > n - j)                                                \
                return -1;                                                             \
            const TOUT inv = mean && len > 0 ? RECIP(len) : (TOUT)1;                   \
            for (Py_ssize_t k0 = 0; k0 < block; k0 += TILE_W) {                        \
                const Py_ssize_t tw = block - k0 < TILE_W ? block - k0 : TILE_W;       \
                TOUT acc[TILE_W];                                                      \
                for (int t = 0; t < TILE_W; t++)                                       \
                    acc[t] = 0;                                                        \
                for (Py_ssize_t q = 0; q < len; q++) {                                 \
                    const int64_t ix = (int64_t)si[q];                                 \
                    if ((uint64_t)ix >= (uint64_t)rows)                                \
                        return -1;                                                     \
                    if (k0 == 0) {                                                     \
                        if (j + q + PREFETCH_AHEAD < n) {                              \
                            int64_t ahead = (int64_t)si[q + PREFETCH_AHEAD];           \
                            if ((uint64_t)ahead < (uint64_t)rows)                      \
                                prefetch_row((const char *)(data + ahead * block),     \
                                             bytes);                                   \
                        }                                                              \
                    }                                                                  \
                    const TIN *x = data + ix * block + k0;                             \
                    if (tw == TILE_W) {                                                \
                        if (sw != NULL) {                                              \
                            const TOUT wq = sw[q];                                     \
                            for (int t = 0; t < TILE_W; t++) {                         \
                                TOUT p = wq * LOAD(x[t]);                              \
                                acc[t] += p;                                           \
                            }                                                          \
                        } else {                                                       \
                            for (int t = 0; t < TILE_W; t++)                           \
                                acc[t] += LOAD(x[t]);                                  \
                        }                                                              \
                    } else {                                                           \
                        const TOUT wq = sw != NULL ? sw[q] : (TOUT)1;                  \
                        for (Py_ssize_t t = 0; t < tw; t++) {                          \
                            TOUT p = sw != NULL ? wq * LOAD(x[t]) : LOAD(x[t]);        \
                            acc[t] += p;                                               \
                        }                                                              \
                    }                                                                  \
                }                                                                      \
                if (mean && len > 0)                                                   \
                    for (Py_ssize_t t = 0; t < tw; t++)                                \
                        o[k0 + t] = acc[t] * inv;                                      \
                else                                                                   \
                    for (Py_ssize_t t = 0; t < tw; t++)                                \
                        o[k0 + t] = acc[t];                                            \
            }                                                                          \
            j += len;                                                                  \
        }                                                                              \
        return 0;                                                                      \
    }

/* Prefetch the row of index position p, its first 512 bytes (never faults: any
 * address will do). */
#define PREFETCH_AT(idx, p, data, bytes)                                               \
    do {                                                                               \
        const char *row_ =                                                             \
            (const char *)(data) + (uintptr_t)(int64_t)(idx)[p] * (uintptr_t)(bytes);  \
        const Py_ssize_t lines_ = (bytes) < 512 ? (bytes) : 512;                       \
        for (Py_ssize_t b_ = 0; b_ < lines_; b_ += 64)                                 \
            PREFETCH(row_ + b_);                                                       \
        if ((bytes) > 64)                                                              \
            PREFETCH(row_ + lines_ - 1);                                               \
    } while (0)

/* Prefetch the rows of positions [from, from + min(count, PREFETCH_AHEAD)). */
#define PREFETCH_HEAD(idx, from, count, data, bytes)                                   \
    do {                                                                               \
        const Py_ssize_t stop_ = (from) + ((count) < PREFETCH_AHEAD ? (count)          \
                                                                    : PREFETCH_AHEAD); \
        for (Py_ssize_t p_ = (from); p_ < stop_; p_++)                                 \
            PREFETCH_AT(idx, p_, data, bytes);                                         \
    } while (0)

/* float32 tables with at least 16 columns: the same arithmetic as FLOAT_LOOKUP (each
 * column adds its rows in index order, products rounded before the addition), with
 * 16 columns of a segment in vector registers (ACC_* below: SSE2 or AVX2). Two
 * segments are summed at once, their rows interleaved: each column's additions form
 * a chain, and two chains overlap where one would wait for the previous addition.
 * The first tile of a pair checks the indices; the first rows of the next pair are
 * prefetched when a pair starts, later rows PREFETCH_AHEAD positions ahead. */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* Rows [from, to) of one segment (or, with B, of two segments at once) added into
 * the accumulators of tile k0; with PF (the first tile, where the indices are also
 * checked), the row PREFETCH_AHEAD positions ahead is prefetched. */
#define ROWS_ONE(A, IA, WA, FROM, TO, PF)                                              \
    for (Py_ssize_t r = (FROM); r < (TO); r++) {                                       \
        const int64_t x_ = (int64_t)(IA)[r];                                           \
        if ((uint64_t)x_ >= (uint64_t)rows)                                            \
            return -1;                                                                 \
        if (PF)                                                                        \
            PREFETCH_AT(IA, r + PREFETCH_AHEAD, data, bytes);                          \
        ACC_ADD(A, data + x_ * block + k0, weighted, (WA)[r]);                         \
    }
#define ROWS_TWO(FROM, TO, PF)                                                         \
    for (Py_ssize_t r = (FROM); r < (TO); r++) {                                       \
        const int64_t xa_ = (int64_t)ia[r], xb_ = (int64_t)ib[r];                      \
        if ((uint64_t)xa_ >= (uint64_t)rows || (uint64_t)xb_ >= (uint64_t)rows)        \
            return -1;                                                                 \
        if (PF) {                                                                      \
            PREFETCH_AT(ia, r + PREFETCH_AHEAD, data, bytes);                          \
            PREFETCH_AT(ib, r + PREFETCH_AHEAD, data, bytes);                          \
        }                                                                              \
        ACC_ADD(a, data + xa_ * block + k0, weighted, wa[r]);                          \
        ACC_ADD(b, data + xb_ * block + k0, weighted, wb[r]);                          \
    }
/* The end of the rows of a segment of `len` rows that prefetch (within it). */
#define PF_END(len) ((len) > PREFETCH_AHEAD ? (len) - PREFETCH_AHEAD : 0)

#define F32_PAIRS(NAME, ITYPE, ATTR)                                                   \
    ATTR static ALWAYS_INLINE int NAME##_w(                                            \
        const float *data, Py_ssize_t rows, const Py_ssize_t block, const ITYPE *idx,  \
        Py_ssize_t n, const int32_t *lengths, Py_ssize_t m, const float *w, int mean,  \
        float *out, const int weighted) {                                              \
        const Py_ssize_t bytes = block * 4, full = block - block % 16;                 \
        Py_ssize_t j = 0, ps = 0, pj = 0;                                              \
        (void)n;                                                                       \
        for (Py_ssize_t s = 0; s < m; s += 2) {                                        \
            const int two = s + 1 < m;                                                 \
            const Py_ssize_t la = lengths[s], lb = two ? lengths[s + 1] : 0;           \
            if (la < 0 || lb < 0 || la > n - j || lb > n - j - la)                     \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            const Py_ssize_t jb = j + la, je = jb + lb, common = la < lb ? la : lb;    \
            const ITYPE *ia = idx + j, *ib = idx + jb;                                 \
            const float *wa = weighted ? w + j : NULL, *wb = weighted ? w + jb : NULL; \
            float *oa = out + s * block, *ob = oa + block;                             \
            for (; ps < m && ps < s + 2 + 2 * PAIRS_AHEAD; ps++) {                     \
                const Py_ssize_t c_ = lengths[ps];                                     \
                if (c_ < 0 || c_ > n - pj)                                             \
                    break;                                                             \
                PREFETCH_HEAD(idx, pj, c_, data, bytes);                               \
                pj += c_;                                                              \
            }                                                                          \
            const Py_ssize_t pa = PF_END(la), pb = PF_END(lb);                         \
            const Py_ssize_t pc = pa < pb ? pa : pb;                                   \
            for (Py_ssize_t k0 = 0; k0 < full; k0 += 16) {                             \
                const int first = k0 == 0;                                             \
                ACC_DECL(a);                                                           \
                ACC_DECL(b);                                                           \
                if (first) {                                                           \
                    ROWS_TWO(0, pc, 1)                                                 \
                    ROWS_TWO(pc, common, 0)                                            \
                } else {                                                               \
                    ROWS_TWO(0, common, 0)                                             \
                }                                                                      \
                if (first && common < pa) {                                            \
                    ROWS_ONE(a, ia, wa, common, pa, 1)                                 \
                    ROWS_ONE(a, ia, wa, pa, la, 0)                                     \
                } else {                                                               \
                    ROWS_ONE(a, ia, wa, common, la, 0)                                 \
                }                                                                      \
                if (first && common < pb) {                                            \
                    ROWS_ONE(b, ib, wb, common, pb, 1)                                 \
                    ROWS_ONE(b, ib, wb, pb, lb, 0)                                     \
                } else {                                                               \
                    ROWS_ONE(b, ib, wb, common, lb, 0)                                 \
                }                                                                      \
                ACC_STORE(oa + k0, a, mean && la > 0, RECIP_F(la));                    \
                if (two)                                                               \
                    ACC_STORE(ob + k0, b, mean && lb > 0, RECIP_F(lb));                \
            }                                                                          \
            for (int h = 0; h <= two; h++) { /* columns past the last full tile */     \
                const Py_ssize_t len = h ? lb : la;                                    \
                const ITYPE *si = h ? ib : ia;                                         \
                const float *sw = h ? wb : wa;                                         \
                float *o = h ? ob : oa;                                                \
                for (Py_ssize_t k = full; k < block; k++) {                            \
                    float acc = 0;                                                     \
                    for (Py_ssize_t q = 0; q < len; q++) {                             \
                        const int64_t x_ = (int64_t)si[q];                             \
                        if ((uint64_t)x_ >= (uint64_t)rows)                            \
                            return -1;                                                 \
                        const float x = data[x_ * block + k];                          \
                        if (weighted) {                                                \
                            float p = sw[q] * x;                                       \
                            acc += p;                                                  \
                        } else {                                                       \
                            acc += x;                                                  \
                        }                                                              \
                    }                                                                  \
                    o[k] = mean && len > 0 ? acc * RECIP_F(len) : acc;                 \
                }                                                                      \
            }                                                                          \
            j = je;                                                                    \
        }                                                                              \
        return 0;                                                                      \
    }                                                                                  \
    ATTR static int NAME(const float *data, Py_ssize_t rows, Py_ssize_t block,         \
                         const ITYPE *idx, Py_ssize_t n, const int32_t *lengths,       \
                         Py_ssize_t m, const float *w, int mean, float *out) {         \
        if (block == 16)                                                               \
            return w != NULL                                                           \
                       ? NAME##_w(data, rows, 16, idx, n, lengths, m, w, mean, out, 1) \
                       : NAME##_w(data, rows, 16, idx, n, lengths, m, w, mean, out, 0);\
        return w != NULL                                                               \
                   ? NAME##_w(data, rows, block, idx, n, lengths, m, w, mean, out, 1)  \
                   : NAME##_w(data, rows, block, idx, n, lengths, m, w, mean, out, 0); \
    }

#if HAVE_SSE2
/* 16 columns in four SSE registers. */
#define ACC_DECL(a) __m128 a##0 = _mm_setzero_ps(), a##1 = a##0, a##2 = a##0, a##3 = a##0
#define ACC_ADD(a, x, weighted, wj)                                                    \
    do {                                                                               \
        if (weighted) {                                                                \
            const __m128 wv_ = _mm_set1_ps(wj);                                        \
            a##0 = _mm_add_ps(a##0, _mm_mul_ps(wv_, _mm_loadu_ps((x) + 0)));           \
            a##1 = _mm_add_ps(a##1, _mm_mul_ps(wv_, _mm_loadu_ps((x) + 4)));           \
            a##2 = _mm_add_ps(a##2, _mm_mul_ps(wv_, _mm_loadu_ps((x) + 8)));           \
            a##3 = _mm_add_ps(a##3, _mm_mul_ps(wv_, _mm_loadu_ps((x) + 12)));          \
        } else {                                                                       \
            a##0 = _mm_add_ps(a##0, _mm_loadu_ps((x) + 0));                            \
            a##1 = _mm_add_ps(a##1, _mm_loadu_ps((x) + 4));                            \
            a##2 = _mm_add_ps(a##2, _mm_loadu_ps((x) + 8));                            \
            a##3 = _mm_add_ps(a##3, _mm_loadu_ps((x) + 12));                           \
        }                                                                              \
    } while (0)
#define ACC_STORE(o, a, scale, inv)                                                    \
    do {                                                                               \
        if (scale) {                                                                   \
            const __m128 v_ = _mm_set1_ps(inv);                                        \
            a##0 = _mm_mul_ps(a##0, v_);                                               \
            a##1 = _mm_mul_ps(a##1, v_);                                               \
            a##2 = _mm_mul_ps(a##2, v_);                                               \
            a##3 = _mm_mul_ps(a##3, v_);                                               \
        }                                                                              \
        _mm_storeu_ps((o) + 0, a##0);                                                  \
        _mm_storeu_ps((o) + 4, a##1);                                                  \
        _mm_storeu_ps((o) + 8, a##2);                                                  \
        _mm_storeu_ps((o) + 12, a##3);                                                 \
    } while (0)
F32_PAIRS(sse_f32_i32, int32_t, )
F32_PAIRS(sse_f32_i64, int64_t, )
#undef ACC_DECL
#undef ACC_ADD
#undef ACC_STORE
#endif

#if HAVE_SSE2 && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* 16 columns in two AVX registers, chosen at run time (AVX2 and F16C). No FMA in
 * the target: a product is rounded before it is added. */
#define HAVE_AVX2 1
#include <immintrin.h>
static int use_avx2;
#define AVX2_ATTR __attribute__((target("avx2,f16c")))
#define ACC_DECL(a) __m256 a##0 = _mm256_setzero_ps(), a##1 = a##0
#define ACC_ADD(a, x, weighted, wj)                                                    \
    do {                                                                               \
        if (weighted) {                                                                \
            const __m256 wv_ = _mm256_set1_ps(wj);                                     \
            a##0 = _mm256_add_ps(a##0, _mm256_mul_ps(wv_, _mm256_loadu_ps((x) + 0)));  \
            a##1 = _mm256_add_ps(a##1, _mm256_mul_ps(wv_, _mm256_loadu_ps((x) + 8)));  \
        } else {                                                                       \
            a##0 = _mm256_add_ps(a##0, _mm256_loadu_ps((x) + 0));                      \
            a##1 = _mm256_add_ps(a##1, _mm256_loadu_ps((x) + 8));                      \
        }                                                                              \
    } while (0)
#define ACC_STORE(o, a, scale, inv)                                                    \
    do {                                                                               \
        if (scale) {                                                                   \
            const __m256 v_ = _mm256_set1_ps(inv);                                     \
            a##0 = _mm256_mul_ps(a##0, v_);                                            \
            a##1 = _mm256_mul_ps(a##1, v_);                                            \
        }                                                                              \
        _mm256_storeu_ps((o) + 0, a##0);                                               \
        _mm256_storeu_ps((o) + 8, a##1);                                               \
    } while (0)
F32_PAIRS(avx2_f32_i32, int32_t, AVX2_ATTR)
F32_PAIRS(avx2_f32_i64, int64_t, AVX2_ATTR)

/* Rows of 64 columns or more (a multiple of 64): one segment at a time, 64 columns
 * in eight registers (eight chains of additions are enough to overlap), the row
 * PREFETCH_AHEAD positions ahead prefetched (the next segment's first rows too). */
#define F32_WIDE(NAME, ITYPE)                                                          \
    AVX2_ATTR static ALWAYS_INLINE int NAME##_w(                                       \
        const float *data, Py_ssize_t rows, const Py_ssize_t block, const ITYPE *idx,  \
        Py_ssize_t n, const int32_t *lengths, Py_ssize_t m, const float *w, int mean,  \
        float *out, const int weighted) {                                              \
        const Py_ssize_t bytes = block * 4;                                            \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            const Py_ssize_t len = lengths[s];                                         \
            if (len < 0 || len > n - j)                                                \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            const ITYPE *si = idx + j;                                                 \
            const float *sw = weighted ? w + j : NULL;                                 \
            float *o = out + s * block;                                                \
            for (Py_ssize_t k0 = 0; k0 < block; k0 += 64) {                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;            \
                __m256 a4 = a0, a5 = a0, a6 = a0, a7 = a0;                             \
                for (Py_ssize_t r = 0; r < len; r++) {                                 \
                    const int64_t x_ = (int64_t)si[r];                                 \
                    if ((uint64_t)x_ >= (uint64_t)rows)                                \
                        return -1;                                                     \
                    if (k0 == 0 && j + r + PREFETCH_AHEAD < n)                         \
                        PREFETCH_AT(idx, j + r + PREFETCH_AHEAD, data, bytes);         \
                    const float *x = data + x_ * block + k0;                           \
                    __m256 wv = _mm256_set1_ps(weighted ? sw[r] : 1.0f);               \
                    if (weighted) {                                                    \
                        a0 = _mm256_add_ps(a0, _mm256_mul_ps(wv, _mm256_loadu_ps(x)));      \
                        a1 = _mm256_add_ps(a1, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 8)));  \
                        a2 = _mm256_add_ps(a2, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 16))); \
                        a3 = _mm256_add_ps(a3, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 24))); \
                        a4 = _mm256_add_ps(a4, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 32))); \
                        a5 = _mm256_add_ps(a5, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 40))); \
                        a6 = _mm256_add_ps(a6, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 48))); \
                        a7 = _mm256_add_ps(a7, _mm256_mul_ps(wv, _mm256_loadu_ps(x + 56))); \
                    } else {                                                           \
                        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x));                    \
                        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + 8));                \
                        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + 16));               \
                        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + 24));               \
                        a4 = _mm256_add_ps(a4, _mm256_loadu_ps(x + 32));               \
                        a5 = _mm256_add_ps(a5, _mm256_loadu_ps(x + 40));               \
                        a6 = _mm256_add_ps(a6, _mm256_loadu_ps(x + 48));               \
                        a7 = _mm256_add_ps(a7, _mm256_loadu_ps(x + 56));               \
                    }                                                                  \
                }                                                                      \
                if (mean && len > 0) {                                                 \
                    const __m256 v_ = _mm256_set1_ps(RECIP_F(len));                    \
                    a0 = _mm256_mul_ps(a0, v_); a1 = _mm256_mul_ps(a1, v_);            \
                    a2 = _mm256_mul_ps(a2, v_); a3 = _mm256_mul_ps(a3, v_);            \
                    a4 = _mm256_mul_ps(a4, v_); a5 = _mm256_mul_ps(a5, v_);            \
                    a6 = _mm256_mul_ps(a6, v_); a7 = _mm256_mul_ps(a7, v_);            \
                }                                                                      \
                _mm256_storeu_ps(o + k0, a0);                                          \
                _mm256_storeu_ps(o + k0 + 8, a1);                                      \
                _mm256_storeu_ps(o + k0 + 16, a2);                                     \
                _mm256_storeu_ps(o + k0 + 24, a3);                                     \
                _mm256_storeu_ps(o + k0 + 32, a4);                                     \
                _mm256_storeu_ps(o + k0 + 40, a5);                                     \
                _mm256_storeu_ps(o + k0 + 48, a6);                                     \
                _mm256_storeu_ps(o + k0 + 56, a7);                                     \
            }                                                                          \
            j += len;                                                                  \
        }                                                                              \
        return 0;                                                                      \
    }                                                                                  \
    AVX2_ATTR static int NAME(const float *data, Py_ssize_t rows, Py_ssize_t block,    \
                              const ITYPE *idx, Py_ssize_t n, const int32_t *lengths,  \
                              Py_ssize_t m, const float *w, int mean, float *out) {    \
        if (block == 64)                                                               \
            return w != NULL                                                           \
                       ? NAME##_w(data, rows, 64, idx, n, lengths, m, w, mean, out, 1) \
                       : NAME##_w(data, rows, 64, idx, n, lengths, m, w, mean, out, 0);\
        return w != NULL                                                               \
                   ? NAME##_w(data, rows, block, idx, n, lengths, m, w, mean, out, 1)  \
                   : NAME##_w(data, rows, block, idx, n, lengths, m, w, mean, out, 0); \
    }

F32_WIDE(wide_f32_i32, int32_t)
F32_WIDE(wide_f32_i64, int64_t)
#undef ACC_DECL
#undef ACC_ADD
#undef ACC_STORE
#else
#define HAVE_AVX2 0
#endif

FLOAT_LOOKUP(lookup_f32_i32, float, float, LOAD_SELF, RECIP_F, int32_t, in_range_i32)
FLOAT_LOOKUP(lookup_f32_i64, float, float, LOAD_SELF, RECIP_F, int64_t, in_range_i64)
FLOAT_LOOKUP(lookup_f64_i32, double, double, LOAD_SELF, RECIP_D, int32_t, in_range_i32)
FLOAT_LOOKUP(lookup_f64_i64, double, double, LOAD_SELF, RECIP_D, int64_t, in_range_i64)
FLOAT_LOOKUP(lookup_f16_i32, uint16_t, float, LOAD_HALF, RECIP_F, int32_t, in_range_i32)
FLOAT_LOOKUP(lookup_f16_i64, uint16_t, float, LOAD_HALF, RECIP_F, int64_t, in_range_i64)

/* One fused row's codes added into o: o[k] += (s * code_k) + b. */
static inline void add_codes8(float *o, const uint8_t *r, Py_ssize_t block, float sc,
                              float bi) {
    for (Py_ssize_t k = 0; k < block; k++) {
        float t = sc * (float)r[k];
        t = t + bi;
        o[k] += t;
    }
}

static inline void add_codes4(float *o, const uint8_t *r, Py_ssize_t nbytes, float sc,
                              float bi) {
    for (Py_ssize_t k = 0; k < nbytes; k++) {
        float lo = sc * (float)(r[k] & 15), hi = sc * (float)(r[k] >> 4);
        lo = lo + bi;
        hi = hi + bi;
        o[2 * k] += lo;
        o[2 * k + 1] += hi;
    }
}

static inline void add_codes2(float *o, const uint8_t *r, Py_ssize_t nbytes, float sc,
                              float bi) {
    for (Py_ssize_t k = 0; k < nbytes; k++) {
        for (int q = 0; q < 4; q++) {
            float t = sc * (float)((r[k] >> (2 * q)) & 3);
            t = t + bi;
            o[4 * k + q] += t;
        }
    }
}

/* The fused lookups: `bits` 8 (float32 scale and bias after the codes) or 4 / 2
 * (float16 scale and bias). Returns 0, or -1 at the first index out of range. */
#define FUSED_LOOKUP(NAME, ITYPE)                                                      \
    static int NAME(const uint8_t *data, Py_ssize_t rows, Py_ssize_t cols, int bits,  \
                    const ITYPE *idx, Py_ssize_t n, const int32_t *lengths,            \
                    Py_ssize_t m, const float *w, int mean, float *out) {              \
        const Py_ssize_t tail = bits == 8 ? 8 : 4, nbytes = cols - tail;               \
        const Py_ssize_t block = nbytes * (8 / bits);                                  \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            float *o = out + s * block;                                                \
            for (Py_ssize_t k = 0; k < block; k++)                                     \
                o[k] = 0;                                                              \
            const Py_ssize_t len = lengths[s];                                         \
            if (len < 0 || len > n - j)                                                \
                return -1;                                                             \
            Py_ssize_t end = j + len;                                                  \
            for (; j < end; j++) {                                                     \
                int64_t ix = (int64_t)idx[j];                                          \
                if ((uint64_t)ix >= (uint64_t)rows)                                    \
                    return -1;                                                         \
                if (j + PREFETCH_AHEAD < n) {                                          \
                    int64_t ahead = (int64_t)idx[j + PREFETCH_AHEAD];                  \
                    if ((uint64_t)ahead < (uint64_t)rows)                              \
                        prefetch_row((const char *)(data + ahead * cols), cols);       \
                }                                                                      \
                const uint8_t *r = data + ix * cols;                                   \
                float sc, bi;                                                          \
                if (bits == 8) {                                                       \
                    memcpy(&sc, r + nbytes, 4);                                        \
                    memcpy(&bi, r + nbytes + 4, 4);                                    \
                } else {                                                               \
                    uint16_t hs, hb;                                                   \
                    memcpy(&hs, r + nbytes, 2);                                        \
                    memcpy(&hb, r + nbytes + 2, 2);                                    \
                    sc = h2f(hs);                                                      \
                    bi = h2f(hb);                                                      \
                }                                                                      \
                if (w != NULL) {                                                       \
                    sc = sc * w[j];                                                    \
                    bi = bi * w[j];                                                    \
                }                                                                      \
                if (bits == 8)                                                         \
                    add_codes8(o, r, block, sc, bi);                                   \
                else if (bits == 4)                                                    \
                    add_codes4(o, r, nbytes, sc, bi);                                  \
                else                                                                   \
                    add_codes2(o, r, nbytes, sc, bi);                                  \
            }                                                                          \
            if (mean && len > 0) {                                                     \
                const float inv = RECIP_F(len);                                        \
                for (Py_ssize_t k = 0; k < block; k++)                                 \
                    o[k] *= inv;                                                       \
            }                                                                          \
        }                                                                              \
        return 0;                                                                      \
    }

FUSED_LOOKUP(fused_i32, int32_t)
FUSED_LOOKUP(fused_i64, int64_t)

#if HAVE_AVX2
/* Fused rows with AVX2: 16 codes of a row decoded into two registers of floats,
 * t = (s * code) + b rounded step by step as in add_codes*, added to the segment's
 * accumulators; two segments at once, as F32_PAIRS. The scale and bias of a row
 * are read (and multiplied by the weight) once per tile. */
AVX2_ATTR static ALWAYS_INLINE void decode16(const uint8_t *p, int bits, __m256 *lo,
                                             __m256 *hi) {
    __m128i v;
    if (bits == 8) {
        v = _mm_loadu_si128((const __m128i *)p);
    } else if (bits == 4) {
        const __m128i b = _mm_loadl_epi64((const __m128i *)p), low = _mm_set1_epi8(15);
        v = _mm_unpacklo_epi8(_mm_and_si128(b, low),
                              _mm_and_si128(_mm_srli_epi16(b, 4), low));
    } else {
        int32_t word;
        memcpy(&word, p, 4);
        const __m128i b = _mm_cvtsi32_si128(word), three = _mm_set1_epi8(3);
        const __m128i c0 = _mm_and_si128(b, three);
        const __m128i c1 = _mm_and_si128(_mm_srli_epi16(b, 2), three);
        const __m128i c2 = _mm_and_si128(_mm_srli_epi16(b, 4), three);
        const __m128i c3 = _mm_and_si128(_mm_srli_epi16(b, 6), three);
        v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(c0, c1), _mm_unpacklo_epi8(c2, c3));
    }
    *lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
    *hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)));
}

#define FUSED_ADD(A, ROW, SC, BI)                                                      \
    do {                                                                               \
        __m256 lo_, hi_;                                                               \
        decode16((ROW) + k0 * bits / 8, bits, &lo_, &hi_);                             \
        const __m256 s_ = _mm256_set1_ps(SC), b_ = _mm256_set1_ps(BI);                 \
        A##0 = _mm256_add_ps(A##0, _mm256_add_ps(_mm256_mul_ps(s_, lo_), b_));         \
        A##1 = _mm256_add_ps(A##1, _mm256_add_ps(_mm256_mul_ps(s_, hi_), b_));         \
    } while (0)

/* Scale and bias of fused row r (times w when weighted). */
#define SCALE_BIAS(r, SC, BI, weighted, wj)                                            \
    do {                                                                               \
        if (bits == 8) {                                                               \
            memcpy(&SC, (r) + nbytes, 4);                                              \
            memcpy(&BI, (r) + nbytes + 4, 4);                                          \
        } else {                                                                       \
            uint16_t hs_, hb_;                                                         \
            memcpy(&hs_, (r) + nbytes, 2);                                             \
            memcpy(&hb_, (r) + nbytes + 2, 2);                                         \
            SC = _cvtsh_ss(hs_); /* exact; a NaN is quieted, as the product is */      \
            BI = _cvtsh_ss(hb_);                                                       \
        }                                                                              \
        if (weighted) {                                                                \
            SC = SC * (wj);                                                            \
            BI = BI * (wj);                                                            \
        }                                                                              \
    } while (0)

#define FROWS_ONE(A, IA, WA, FROM, TO)                                                 \
    for (Py_ssize_t r = (FROM); r < (TO); r++) {                                       \
        const int64_t x_ = (int64_t)(IA)[r];                                           \
        if ((uint64_t)x_ >= (uint64_t)rows)                                            \
            return -1;                                                                 \
        if (first && r + PREFETCH_AHEAD < (TO))                                        \
            PREFETCH_AT(IA, r + PREFETCH_AHEAD, data, cols);                           \
        const uint8_t *row_ = data + x_ * cols;                                        \
        float sc_, bi_;                                                                \
        SCALE_BIAS(row_, sc_, bi_, weighted, weighted ? (WA)[r] : 1.0f);               \
        FUSED_ADD(A, row_, sc_, bi_);                                                  \
    }

#define FUSED_PAIRS(NAME, ITYPE)                                                       \
    AVX2_ATTR static ALWAYS_INLINE int NAME##_w(                                       \
        const uint8_t *data, Py_ssize_t rows, Py_ssize_t cols, const int bits,         \
        const ITYPE *idx, Py_ssize_t n, const int32_t *lengths, Py_ssize_t m,          \
        const float *w, int mean, float *out, const int weighted) {                    \
        const Py_ssize_t tail = bits == 8 ? 8 : 4, nbytes = cols - tail;               \
        const Py_ssize_t block = nbytes * (8 / bits), full = block - block % 16;       \
        Py_ssize_t j = 0, ps = 0, pj = 0;                                              \
        for (Py_ssize_t s = 0; s < m; s += 2) {                                        \
            const int two = s + 1 < m;                                                 \
            const Py_ssize_t la = lengths[s], lb = two ? lengths[s + 1] : 0;           \
            if (la < 0 || lb < 0 || la > n - j || lb > n - j - la)                     \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            const Py_ssize_t jb = j + la, je = jb + lb, common = la < lb ? la : lb;    \
            const ITYPE *ia = idx + j, *ib = idx + jb;                                 \
            const float *wa = weighted ? w + j : NULL, *wb = weighted ? w + jb : NULL; \
            float *oa = out + s * block, *ob = oa + block;                             \
            for (; ps < m && ps < s + 2 + 2 * PAIRS_AHEAD; ps++) {                     \
                const Py_ssize_t c_ = lengths[ps];                                     \
                if (c_ < 0 || c_ > n - pj)                                             \
                    break;                                                             \
                PREFETCH_HEAD(idx, pj, c_, data, cols);                                \
                pj += c_;                                                              \
            }                                                                          \
            for (Py_ssize_t k0 = 0; k0 < full; k0 += 16) {                             \
                const int first = k0 == 0;                                             \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;            \
                for (Py_ssize_t r = 0; r < common; r++) {                              \
                    const int64_t xa_ = (int64_t)ia[r], xb_ = (int64_t)ib[r];          \
                    if ((uint64_t)xa_ >= (uint64_t)rows ||                             \
                        (uint64_t)xb_ >= (uint64_t)rows)                               \
                        return -1;                                                     \
                    if (first) {                                                       \
                        if (r + PREFETCH_AHEAD < la)                                   \
                            PREFETCH_AT(ia, r + PREFETCH_AHEAD, data, cols);           \
                        if (r + PREFETCH_AHEAD < lb)                                   \
                            PREFETCH_AT(ib, r + PREFETCH_AHEAD, data, cols);           \
                    }                                                                  \
                    const uint8_t *ra_ = data + xa_ * cols, *rb_ = data + xb_ * cols;  \
                    float sa_, ba_, sb_, bb_;                                          \
                    SCALE_BIAS(ra_, sa_, ba_, weighted, weighted ? wa[r] : 1.0f);      \
                    SCALE_BIAS(rb_, sb_, bb_, weighted, weighted ? wb[r] : 1.0f);      \
                    FUSED_ADD(a, ra_, sa_, ba_);                                       \
                    FUSED_ADD(b, rb_, sb_, bb_);                                       \
                }                                                                      \
                FROWS_ONE(a, ia, wa, common, la)                                       \
                FROWS_ONE(b, ib, wb, common, lb)                                       \
                if (mean && la > 0) {                                                  \
                    const __m256 v_ = _mm256_set1_ps(RECIP_F(la));                     \
                    a0 = _mm256_mul_ps(a0, v_);                                        \
                    a1 = _mm256_mul_ps(a1, v_);                                        \
                }                                                                      \
                _mm256_storeu_ps(oa + k0, a0);                                         \
                _mm256_storeu_ps(oa + k0 + 8, a1);                                     \
                if (two) {                                                             \
                    if (mean && lb > 0) {                                              \
                        const __m256 v_ = _mm256_set1_ps(RECIP_F(lb));                 \
                        b0 = _mm256_mul_ps(b0, v_);                                    \
                        b1 = _mm256_mul_ps(b1, v_);                                    \
                    }                                                                  \
                    _mm256_storeu_ps(ob + k0, b0);                                     \
                    _mm256_storeu_ps(ob + k0 + 8, b1);                                 \
                }                                                                      \
            }                                                                          \
            for (int h = 0; h <= two; h++) { /* codes past the last full tile */       \
                const Py_ssize_t len = h ? lb : la;                                    \
                const ITYPE *si = h ? ib : ia;                                         \
                const float *sw = h ? wb : wa;                                         \
                float *o = h ? ob : oa;                                                \
                if (full == 0) /* no tile checked the indices */                       \
                    for (Py_ssize_t q = 0; q < len; q++)                               \
                        if ((uint64_t)(int64_t)si[q] >= (uint64_t)rows)                \
                            return -1;                                                 \
                for (Py_ssize_t k = full; k < block; k++) {                            \
                    float acc = 0;                                                     \
                    for (Py_ssize_t q = 0; q < len; q++) {                             \
                        const int64_t x_ = (int64_t)si[q];                             \
                        if ((uint64_t)x_ >= (uint64_t)rows)                            \
                            return -1;                                                 \
                        const uint8_t *r_ = data + x_ * cols;                          \
                        float sc_, bi_;                                                \
                        SCALE_BIAS(r_, sc_, bi_, weighted, weighted ? sw[q] : 1.0f);   \
                        const int per_ = 8 / bits;                                     \
                        const int code_ =                                              \
                            (r_[k / per_] >> ((k % per_) * bits)) & ((1 << bits) - 1); \
                        float t_ = sc_ * (float)code_;                                 \
                        t_ = t_ + bi_;                                                 \
                        acc += t_;                                                     \
                    }                                                                  \
                    o[k] = mean && len > 0 ? acc * RECIP_F(len) : acc;                 \
                }                                                                      \
            }                                                                          \
            j = je;                                                                    \
        }                                                                              \
        return 0;                                                                      \
    }                                                                                  \
    AVX2_ATTR static int NAME(const uint8_t *data, Py_ssize_t rows, Py_ssize_t cols,   \
                              int bits, const ITYPE *idx, Py_ssize_t n,                \
                              const int32_t *lengths, Py_ssize_t m, const float *w,    \
                              int mean, float *out) {                                  \
        if (bits == 8)                                                                 \
            return w ? NAME##_w(data, rows, cols, 8, idx, n, lengths, m, w, mean, out, 1) \
                     : NAME##_w(data, rows, cols, 8, idx, n, lengths, m, w, mean, out, 0);\
        if (bits == 4)                                                                 \
            return w ? NAME##_w(data, rows, cols, 4, idx, n, lengths, m, w, mean, out, 1) \
                     : NAME##_w(data, rows, cols, 4, idx, n, lengths, m, w, mean, out, 0);\
        return w ? NAME##_w(data, rows, cols, 2, idx, n, lengths, m, w, mean, out, 1)     \
                 : NAME##_w(data, rows, cols, 2, idx, n, lengths, m, w, mean, out, 0);    \
    }

FUSED_PAIRS(avx2_fused_i32, int32_t)
FUSED_PAIRS(avx2_fused_i64, int64_t)

/* Fused rows of 64 codes or more (a multiple of 64): one segment at a time, 64
 * columns in eight registers, a row's scale and bias read once per 64 codes. */
#define FUSED_ADD2(A0, A1, ROW, K, SV, BV)                                             \
    do {                                                                               \
        __m256 lo_, hi_;                                                               \
        decode16((ROW) + (K) * bits / 8, bits, &lo_, &hi_);                            \
        A0 = _mm256_add_ps(A0, _mm256_add_ps(_mm256_mul_ps(SV, lo_), BV));             \
        A1 = _mm256_add_ps(A1, _mm256_add_ps(_mm256_mul_ps(SV, hi_), BV));             \
    } while (0)

#define FUSED_WIDE(NAME, ITYPE)                                                        \
    AVX2_ATTR static ALWAYS_INLINE int NAME##_w(                                       \
        const uint8_t *data, Py_ssize_t rows, Py_ssize_t cols, const int bits,         \
        const ITYPE *idx, Py_ssize_t n, const int32_t *lengths, Py_ssize_t m,          \
        const float *w, int mean, float *out, const int weighted) {                    \
        const Py_ssize_t tail = bits == 8 ? 8 : 4, nbytes = cols - tail;               \
        const Py_ssize_t block = nbytes * (8 / bits);                                  \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            const Py_ssize_t len = lengths[s];                                         \
            if (len < 0 || len > n - j)                                                \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            const ITYPE *si = idx + j;                                                 \
            const float *sw = weighted ? w + j : NULL;                                 \
            float *o = out + s * block;                                                \
            for (Py_ssize_t k0 = 0; k0 < block; k0 += 64) {                            \
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;            \
                __m256 a4 = a0, a5 = a0, a6 = a0, a7 = a0;                             \
                for (Py_ssize_t r = 0; r < len; r++) {                                 \
                    const int64_t x_ = (int64_t)si[r];                                 \
                    if ((uint64_t)x_ >= (uint64_t)rows)                                \
                        return -1;                                                     \
                    if (k0 == 0 && j + r + PREFETCH_AHEAD < n)                         \
                        PREFETCH_AT(idx, j + r + PREFETCH_AHEAD, data, cols);          \
                    const uint8_t *row_ = data + x_ * cols;                            \
                    float sc_, bi_;                                                    \
                    SCALE_BIAS(row_, sc_, bi_, weighted, weighted ? sw[r] : 1.0f);     \
                    const __m256 sv_ = _mm256_set1_ps(sc_), bv_ = _mm256_set1_ps(bi_); \
                    FUSED_ADD2(a0, a1, row_, k0, sv_, bv_);                            \
                    FUSED_ADD2(a2, a3, row_, k0 + 16, sv_, bv_);                       \
                    FUSED_ADD2(a4, a5, row_, k0 + 32, sv_, bv_);                       \
                    FUSED_ADD2(a6, a7, row_, k0 + 48, sv_, bv_);                       \
                }                                                                      \
                if (mean && len > 0) {                                                 \
                    const __m256 v_ = _mm256_set1_ps(RECIP_F(len));                    \
                    a0 = _mm256_mul_ps(a0, v_); a1 = _mm256_mul_ps(a1, v_);            \
                    a2 = _mm256_mul_ps(a2, v_); a3 = _mm256_mul_ps(a3, v_);            \
                    a4 = _mm256_mul_ps(a4, v_); a5 = _mm256_mul_ps(a5, v_);            \
                    a6 = _mm256_mul_ps(a6, v_); a7 = _mm256_mul_ps(a7, v_);            \
                }                                                                      \
                _mm256_storeu_ps(o + k0, a0);                                          \
                _mm256_storeu_ps(o + k0 + 8, a1);                                      \
                _mm256_storeu_ps(o + k0 + 16, a2);                                     \
                _mm256_storeu_ps(o + k0 + 24, a3);                                     \
                _mm256_storeu_ps(o + k0 + 32, a4);                                     \
                _mm256_storeu_ps(o + k0 + 40, a5);                                     \
                _mm256_storeu_ps(o + k0 + 48, a6);                                     \
                _mm256_storeu_ps(o + k0 + 56, a7);                                     \
            }                                                                          \
            j += len;                                                                  \
        }                                                                              \
        return 0;                                                                      \
    }                                                                                  \
    AVX2_ATTR static int NAME(const uint8_t *data, Py_ssize_t rows, Py_ssize_t cols,   \
                              int bits, const ITYPE *idx, Py_ssize_t n,                \
                              const int32_t *lengths, Py_ssize_t m, const float *w,    \
                              int mean, float *out) {                                  \
        if (bits == 8)                                                                 \
            return w ? NAME##_w(data, rows, cols, 8, idx, n, lengths, m, w, mean, out, 1) \
                     : NAME##_w(data, rows, cols, 8, idx, n, lengths, m, w, mean, out, 0);\
        if (bits == 4)                                                                 \
            return w ? NAME##_w(data, rows, cols, 4, idx, n, lengths, m, w, mean, out, 1) \
                     : NAME##_w(data, rows, cols, 4, idx, n, lengths, m, w, mean, out, 0);\
        return w ? NAME##_w(data, rows, cols, 2, idx, n, lengths, m, w, mean, out, 1)  \
                 : NAME##_w(data, rows, cols, 2, idx, n, lengths, m, w, mean, out, 0); \
    }

FUSED_WIDE(wide_fused_i32, int32_t)
FUSED_WIDE(wide_fused_i64, int64_t)
#endif

/* The index, lengths and weights buffers every lookup takes, checked for type,
 * rank, sign and sum. Returns the number of indices, or -1 (nothing set). */
static Py_ssize_t lookup_operands(held_t *h, PyObject *indices, PyObject *lengths,
                                  PyObject *weights, enum kind wkind, Py_buffer **iv,
                                  Py_buffer **lv, Py_buffer **wv) {
    *iv = hold(h, indices, 0);
    if (*iv == NULL || (*iv)->ndim != 1)
        return -1;
    enum kind ik = kind_of(*iv);
    if (ik != K_I32 && ik != K_I64)
        return -1;
    *lv = hold(h, lengths, 0);
    if (*lv == NULL || (*lv)->ndim != 1 || kind_of(*lv) != K_I32)
        return -1;
    Py_ssize_t n = (*iv)->shape[0];
    *wv = NULL;
    if (weights != Py_None) {
        *wv = hold(h, weights, 0);
        if (*wv == NULL || (*wv)->ndim != 1 || kind_of(*wv) != wkind ||
            (*wv)->shape[0] != n)
            return -1;
    }
    if (lengths_total((const int32_t *)(*lv)->buf, (*lv)->shape[0]) != (long long)n)
        return -1;
    return n;
}

PyDoc_STRVAR(sparse_lengths_doc,
             "sparse_lengths(data, indices, lengths, weights, mean) -> OUTPUT or None\n\n"
             "SparseLengths{Sum,WeightedSum,Mean} of a float16/32/64 table (weights: "
             "None or one per index; mean: 0 or 1). None when an input is outside "
             "what the kernel handles or invalid: the caller checks and raises.");

static PyObject *sparse_lengths(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "sparse_lengths takes 5 arguments");
        return NULL;
    }
    held_t h = {.n = 0};
    PyObject *result = NULL;
    Py_buffer *dv, *iv, *lv, *wv, ov;
    int mean = PyObject_IsTrue(args[4]);
    if (mean < 0)
        return NULL;
    dv = hold(&h, args[0], 0);
    if (dv == NULL || dv->ndim < 1)
        goto none;
    enum kind dk = kind_of(dv);
    if (dk != K_F16 && dk != K_F32 && dk != K_F64)
        goto none;
    enum kind ok = dk == K_F64 ? K_F64 : K_F32;
    Py_ssize_t n = lookup_operands(&h, args[1], args[2], args[3], ok, &iv, &lv, &wv);
    if (n < 0)
        goto none;
    Py_ssize_t rows = dv->shape[0], block = row_size(dv), m = lv->shape[0];
    result = new_array(m, dv, 0, ok == K_F64 ? dtype_f64 : dtype_f32, &ov);
    if (result == NULL)
        goto done;
    const void *w = wv ? wv->buf : NULL;
    const int32_t *lens = (const int32_t *)lv->buf;
    int i64 = kind_of(iv) == K_I64, bad = 0;
    PyThreadState *ts = NULL;
    if (m * block >= RELEASE_GIL_AT || n * block >= RELEASE_GIL_AT)
        ts = PyEval_SaveThread();
#if HAVE_AVX2
    if (dk == K_F32 && block % 64 == 0 && block > 0 && use_avx2)
        bad = i64 ? wide_f32_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                 ov.buf)
                  : wide_f32_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                 ov.buf);
    else if (dk == K_F32 && block >= 16 && use_avx2)
        bad = i64 ? avx2_f32_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                 ov.buf)
                  : avx2_f32_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                 ov.buf);
    else
#endif
#if HAVE_SSE2
    if (dk == K_F32 && block >= 16)
        bad = i64 ? sse_f32_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                ov.buf)
                  : sse_f32_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                ov.buf);
    else
#endif
    if (dk == K_F32)
        bad = i64 ? lookup_f32_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf)
                  : lookup_f32_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf);
    else if (dk == K_F64)
        bad = i64 ? lookup_f64_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf)
                  : lookup_f64_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf);
    else
        bad = i64 ? lookup_f16_i64(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf)
                  : lookup_f16_i32(dv->buf, rows, block, iv->buf, n, lens, m, w, mean,
                                   ov.buf);
    if (ts != NULL)
        PyEval_RestoreThread(ts);
    PyBuffer_Release(&ov);
    if (bad)
        Py_CLEAR(result);
    else
        goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    release_all(&h);
    return result;
}

PyDoc_STRVAR(fused_lookup_doc,
             "fused_lookup(data, indices, lengths, weights, mean, bits) -> OUTPUT or None\n\n"
             "SparseLengths{Sum,WeightedSum,Mean}Fused{8,4,2}BitRowwise on a uint8 "
             "matrix of fused rows. None as for sparse_lengths.");

static PyObject *fused_lookup(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "fused_lookup takes 6 arguments");
        return NULL;
    }
    held_t h = {.n = 0};
    PyObject *result = NULL;
    Py_buffer *dv, *iv, *lv, *wv, ov;
    int mean = PyObject_IsTrue(args[4]);
    long bits = PyLong_AsLong(args[5]);
    if (mean < 0 || (bits == -1 && PyErr_Occurred()))
        return NULL;
    if (bits != 8 && bits != 4 && bits != 2)
        goto none;
    Py_ssize_t tail = bits == 8 ? 8 : 4;
    dv = hold(&h, args[0], 0);
    if (dv == NULL || dv->ndim != 2 || kind_of(dv) != K_U8 || dv->shape[1] <= tail)
        goto none;
    Py_ssize_t n = lookup_operands(&h, args[1], args[2], args[3], K_F32, &iv, &lv, &wv);
    if (n < 0)
        goto none;
    Py_ssize_t rows = dv->shape[0], cols = dv->shape[1], m = lv->shape[0];
    Py_ssize_t block = (cols - tail) * (8 / bits);
    result = new_array(m, NULL, block, dtype_f32, &ov);
    if (result == NULL)
        goto done;
    const float *w = wv ? (const float *)wv->buf : NULL;
    const int32_t *lens = (const int32_t *)lv->buf;
    int i64 = kind_of(iv) == K_I64, bad = 0, b = (int)bits;
    PyThreadState *ts = NULL;
    if (m * block >= RELEASE_GIL_AT || n * block >= RELEASE_GIL_AT)
        ts = PyEval_SaveThread();
#if HAVE_AVX2
    if (use_avx2 && block % 64 == 0)
        bad = i64 ? wide_fused_i64(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean,
                                   ov.buf)
                  : wide_fused_i32(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean,
                                   ov.buf);
    else if (use_avx2)
        bad = i64 ? avx2_fused_i64(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean,
                                   ov.buf)
                  : avx2_fused_i32(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean,
                                   ov.buf);
    else
#endif
    bad = i64 ? fused_i64(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean, ov.buf)
              : fused_i32(dv->buf, rows, cols, b, iv->buf, n, lens, m, w, mean, ov.buf);
    if (ts != NULL)
        PyEval_RestoreThread(ts);
    PyBuffer_Release(&ov);
    if (bad)
        Py_CLEAR(result);
    else
        goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    release_all(&h);
    return result;
}

/* Row j of out = g[segment of j] (times w[j], or times 1/length for a mean). */
#define TILE(NAME, T)                                                                  \
    static ALWAYS_INLINE int NAME##_b(const T *restrict g, const Py_ssize_t block,     \
                                      const int32_t *restrict lengths, Py_ssize_t m,   \
                                      Py_ssize_t n, const T *restrict w,               \
                                      const int mean, T *restrict out,                 \
                                      const int weighted) {                            \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            const T *gs = g + s * block;                                               \
            const int32_t len = lengths[s];                                            \
            if (len < 0 || len > n - j)                                                \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            const T inv = mean && len > 0 ? (T)(1.0 / (double)len) : (T)1;             \
            for (int32_t q = 0; q < len; q++, j++) {                                   \
                T *o = out + j * block;                                                \
                if (weighted) {                                                        \
                    const T wj = w[j];                                                 \
                    for (Py_ssize_t k = 0; k < block; k++)                             \
                        o[k] = gs[k] * wj;                                             \
                } else if (mean) {                                                     \
                    for (Py_ssize_t k = 0; k < block; k++)                             \
                        o[k] = gs[k] * inv;                                            \
                } else { /* a constant size when block is: inline moves */             \
                    memcpy(o, gs, (size_t)block * sizeof(T));                          \
                }                                                                      \
            }                                                                          \
        }                                                                              \
        return 0;                                                                      \
    }                                                                                  \
    static int NAME(const T *g, Py_ssize_t block, const int32_t *lengths, Py_ssize_t m, \
                    Py_ssize_t n, const T *w, int mean, T *out) {                      \
        if (block == 16)                                                               \
            return w != NULL ? NAME##_b(g, 16, lengths, m, n, w, 0, out, 1)            \
                             : NAME##_b(g, 16, lengths, m, n, w, mean, out, 0);        \
        return w != NULL ? NAME##_b(g, block, lengths, m, n, w, 0, out, 1)             \
                         : NAME##_b(g, block, lengths, m, n, w, mean, out, 0);         \
    }

TILE(tile_f32, float)
TILE(tile_f64, double)

/* d WEIGHTS[j] = sequential dot of g[segment of j] and data[idx[j]]: p_0 first,
 * then + p_k in order (p_k = g_k * x_k rounded). -1 at an index out of range. */
#define DOT(NAME, T, ITYPE)                                                            \
    static int NAME(const T *g, Py_ssize_t block, const int32_t *lengths,              \
                    Py_ssize_t m, const T *data, Py_ssize_t rows, const ITYPE *idx,    \
                    Py_ssize_t n, T *out) {                                            \
        Py_ssize_t j = 0;                                                              \
        for (Py_ssize_t s = 0; s < m; s++) {                                           \
            const T *gs = g + s * block;                                               \
            const int32_t len = lengths[s];                                            \
            if (len < 0 || len > n - j)                                                \
                return -1; /* only if LENGTHS changed meanwhile */                     \
            for (int32_t q = 0; q < len; q++, j++) {                                   \
                int64_t ix = (int64_t)idx[j];                                          \
                if ((uint64_t)ix >= (uint64_t)rows)                                    \
                    return -1;                                                         \
                if (j + PREFETCH_AHEAD < n)                                            \
                    PREFETCH_AT(idx, j + PREFETCH_AHEAD, data, block * sizeof(T));     \
                const T *x = data + ix * block;                                        \
                T acc = 0;                                                             \
                if (block > 0) {                                                       \
                    acc = gs[0] * x[0];                                                \
                    for (Py_ssize_t k = 1; k < block; k++) {                           \
                        T p = gs[k] * x[k];                                            \
                        acc = acc + p;                                                 \
                    }                                                                  \
                }                                                                      \
                out[j] = acc;                                                          \
            }                                                                          \
        }                                                                              \
        return 0;                                                                      \
    }

DOT(dot_f32_i32, float, int32_t)
DOT(dot_f32_i64, float, int64_t)
DOT(dot_f64_i32, double, int32_t)
DOT(dot_f64_i64, double, int64_t)

PyDoc_STRVAR(tile_doc,
             "tile(grads, lengths, weights, mean) -> VALUES or None\n\n"
             "The gradient values of the SparseLengths reductions: one row per index, "
             "its segment's row of grads (float32/64, one row per length), times "
             "weights[j] (None or one per index, grads' type) or times "
             "(grads' type)(1.0 / length) when mean. None as for sparse_lengths.");

PyDoc_STRVAR(tile_dot_doc,
             "tile_dot(grads, lengths, weights, data, indices) -> (VALUES, WEIGHTS_GRAD) "
             "or None\n\n"
             "tile(grads, lengths, weights, False) and, per index j, the sequential "
             "dot product of its segment's row of grads with data[indices[j]].");

static PyObject *tile_impl(PyObject *const *args, int with_dot) {
    held_t h = {.n = 0};
    PyObject *result = NULL, *values = NULL, *wgrad = NULL;
    Py_buffer *gv, *lv, *wv = NULL, *dv = NULL, *iv = NULL, ov, dov;
    int mean = 0;
    if (!with_dot && (mean = PyObject_IsTrue(args[3])) < 0)
        return NULL;
    gv = hold(&h, args[0], 0);
    if (gv == NULL || gv->ndim < 1)
        goto none;
    enum kind gk = kind_of(gv);
    if (gk != K_F32 && gk != K_F64)
        goto none;
    lv = hold(&h, args[1], 0);
    if (lv == NULL || lv->ndim != 1 || kind_of(lv) != K_I32 ||
        lv->shape[0] != gv->shape[0])
        goto none;
    Py_ssize_t m = lv->shape[0], block = row_size(gv);
    long long total = lengths_total((const int32_t *)lv->buf, m);
    if (total < 0 || (block > 0 && total > PY_SSIZE_T_MAX / 16 / block))
        goto none;
    Py_ssize_t n = (Py_ssize_t)total;
    if (args[2] != Py_None) {
        wv = hold(&h, args[2], 0);
        if (wv == NULL || wv->ndim != 1 || kind_of(wv) != gk || wv->shape[0] != n)
            goto none;
    }
    if (with_dot) {
        if (wv == NULL)
            goto none;
        dv = hold(&h, args[3], 0);
        if (dv == NULL || dv->ndim < 1 || kind_of(dv) != gk || row_size(dv) != block)
            goto none;
        iv = hold(&h, args[4], 0);
        if (iv == NULL || iv->ndim != 1 || iv->shape[0] != n)
            goto none;
        enum kind ik = kind_of(iv);
        if (ik != K_I32 && ik != K_I64)
            goto none;
    }
    PyObject *dtype = gk == K_F64 ? dtype_f64 : dtype_f32;
    values = new_array(n, gv, 0, dtype, &ov);
    if (values == NULL)
        goto done;
    if (with_dot) {
        wgrad = new_array(n, wv, 0, dtype, &dov);
        if (wgrad == NULL) {
            PyBuffer_Release(&ov);
            goto done;
        }
    }
    const int32_t *lens = (const int32_t *)lv->buf;
    const void *w = wv ? wv->buf : NULL;
    int bad = 0;
    PyThreadState *ts = NULL;
    if (n * block >= RELEASE_GIL_AT)
        ts = PyEval_SaveThread();
    if (gk == K_F32)
        bad = tile_f32(gv->buf, block, lens, m, n, w, mean, ov.buf);
    else
        bad = tile_f64(gv->buf, block, lens, m, n, w, mean, ov.buf);
    if (with_dot && !bad) {
        int i64 = kind_of(iv) == K_I64;
        Py_ssize_t rows = dv->shape[0];
        if (gk == K_F32)
            bad = i64 ? dot_f32_i64(gv->buf, block, lens, m, dv->buf, rows, iv->buf,
                                    n, dov.buf)
                      : dot_f32_i32(gv->buf, block, lens, m, dv->buf, rows, iv->buf,
                                    n, dov.buf);
        else
            bad = i64 ? dot_f64_i64(gv->buf, block, lens, m, dv->buf, rows, iv->buf,
                                    n, dov.buf)
                      : dot_f64_i32(gv->buf, block, lens, m, dv->buf, rows, iv->buf,
                                    n, dov.buf);
    }
    if (ts != NULL)
        PyEval_RestoreThread(ts);
    PyBuffer_Release(&ov);
    if (with_dot)
        PyBuffer_Release(&dov);
    if (bad)
        goto none;
    if (!with_dot) {
        result = values;
        values = NULL;
    } else {
        result = PyTuple_Pack(2, values, wgrad);
    }
    goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(values);
    Py_XDECREF(wgrad);
    release_all(&h);
    return result;
}

static PyObject *tile(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "tile takes 4 arguments");
        return NULL;
    }
    return tile_impl(args, 0);
}

static PyObject *tile_dot(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "tile_dot takes 5 arguments");
        return NULL;
    }
    return tile_impl(args, 1);
}

PyDoc_STRVAR(configure_doc,
             "configure(ndarray, empty, float32, float64)\n\n"
             "The numpy objects the kernels use: the array type they accept, the "
             "allocator of their outputs and the two output dtypes.");

static PyObject *configure(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "configure takes 4 arguments");
        return NULL;
    }
    if (!PyType_Check(args[0]) || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "configure(ndarray type, empty callable, ...)");
        return NULL;
    }
    PyObject **slots[4] = {&ndarray_type, &empty_fn, &dtype_f32, &dtype_f64};
    for (int i = 0; i < 4; i++) {
        Py_INCREF(args[i]);
        Py_XSETREF(*slots[i], args[i]);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(select_avx2_doc,
             "select_avx2(on) -> bool\n\n"
             "Use the AVX2 float32 kernels (only where built and where the processor "
             "has AVX2); returns whether they are now used. For tests.");

static PyObject *select_avx2(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
#if HAVE_AVX2
    __builtin_cpu_init();
    use_avx2 = on && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    return PyBool_FromLong(use_avx2);
#else
    return PyBool_FromLong(0);
#endif
}

static PyMethodDef methods[] = {
    {"select_avx2", select_avx2, METH_O, select_avx2_doc},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, configure_doc},
    {"sparse_lengths", (PyCFunction)(void (*)(void))sparse_lengths, METH_FASTCALL,
     sparse_lengths_doc},
    {"fused_lookup", (PyCFunction)(void (*)(void))fused_lookup, METH_FASTCALL,
     fused_lookup_doc},
    {"tile", (PyCFunction)(void (*)(void))tile, METH_FASTCALL, tile_doc},
    {"tile_dot", (PyCFunction)(void (*)(void))tile_dot, METH_FASTCALL, tile_dot_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_caffe2lite_embedding",
    "The optional compiled embedding reductions of caffe2lite "
    "(see ops/_embedding_native.py).",
    -1,
    methods,
};

PyMODINIT_FUNC PyInit__caffe2lite_embedding(void) {
#if HAVE_AVX2
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#endif
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0)
        Py_CLEAR(m);
    return m;
}
