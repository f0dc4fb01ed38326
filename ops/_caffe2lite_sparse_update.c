/* Optional compiled loops of the sparse parameter updates (ScatterWeightedSum,
 * SparseAdagrad, RowWiseSparseAdagrad, SparseAdam, RowWiseSparseAdam,
 * SparseMomentumSGDUpdate, SparseFtrl), built by setup.py as the top-level module
 * `_caffe2lite_sparse_update` and loaded by ops/_sparse_update_native.py.
 *
 * Why C: Caffe2 applies the indices one after another, so a row named c times is
 * updated c times, each update seeing the previous one. numpy can only do that
 * with ufunc.at on flat element indices (an int64 array twice the size of the
 * update values) or one call per repetition level (thousands of calls when one id
 * dominates a batch, as real ids do). These loops do it in one pass over the
 * indices, with no temporary memory, in time proportional to the indices.
 *
 * Each function first checks every buffer (formats, sizes) and every index, and
 * only then writes: a failing call changes nothing. The arithmetic is the numpy
 * kernels' (float32 operations rounded one by one, no contraction into fused
 * multiply-adds), so both give the same bits; the tests compare them.
 *
 * The GIL is kept while writing: no one can take a reference to the parameter
 * array meanwhile (ops/_sparse_update_native.py decides, from its reference count,
 * that only the workspace holds it).
 *
 * Uses only the buffer protocol: no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Four lanes at a time where SSE2 is at hand (every x86-64): sqrtps and divps round
 * each lane exactly as sqrtss and divss do, so the lanes give the scalar loops' bits
 * (sqrtf itself does not vectorise: it may set errno). */
#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2 1
#else
#define HAVE_SSE2 0
#endif

/* Bumped whenever a function's signature or meaning changes: the Python side only
 * uses a module built from the same interface. */
#define INTERFACE 2

enum { F32, F64, I32, I64, OTHER };

static int kind_of(const Py_buffer *v) {
    const char *f = v->format == NULL ? "B" : v->format;
    if (*f == '=' || *f == '@' || *f == '<')
        f++;
    if (strcmp(f, "f") == 0 && v->itemsize == 4)
        return F32;
    if (strcmp(f, "d") == 0 && v->itemsize == 8)
        return F64;
    if ((strcmp(f, "i") == 0 || strcmp(f, "l") == 0) && v->itemsize == 4)
        return I32;
    if ((strcmp(f, "q") == 0 || strcmp(f, "l") == 0) && v->itemsize == 8)
        return I64;
    return OTHER;
}

/* A C-contiguous buffer of `obj` (writable when asked), of kind `kind` (or, for
 * indices, I32 or I64: pass -1) and of exactly `count` items (any count: -1). */
static int get(PyObject *obj, Py_buffer *v, int writable, int kind, Py_ssize_t count,
               const char *what) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, v, flags) < 0)
        return -1;
    int found = kind_of(v);
    int ok = kind < 0 ? (found == I32 || found == I64) : found == kind;
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "%s: unexpected element type '%s'", what,
                     v->format == NULL ? "B" : v->format);
        PyBuffer_Release(v);
        return -1;
    }
    if (count >= 0 && v->len != count * v->itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items, expected %zd", what,
                     v->len / v->itemsize, count);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

static inline int64_t index_at(const Py_buffer *v, Py_ssize_t i) {
    return v->itemsize == 8 ? ((const int64_t *)v->buf)[i] : ((const int32_t *)v->buf)[i];
}

/* 0 when every index lies in [0, rows); -1 with ValueError otherwise. */
static int check_indices(const Py_buffer *v, Py_ssize_t rows) {
    Py_ssize_t k = v->len / v->itemsize;
    for (Py_ssize_t i = 0; i < k; i++) {
        int64_t r = index_at(v, i);
        if (r < 0 || r >= (int64_t)rows) {
            PyErr_Format(PyExc_ValueError, "index %lld at %zd out of range [0, %zd)",
                         (long long)r, i, rows);
            return -1;
        }
    }
    return 0;
}

#define SWS_LOOPS(T)                                                                   \
    do {                                                                               \
        T *data = (T *)dv.buf;                                                         \
        const T s = (T)scale;                                                          \
        if (s != (T)1) {                                                               \
            for (Py_ssize_t i = 0; i < k; i++) {                                       \
                T *row = data + index_at(&iv, i) * block;                              \
                for (Py_ssize_t e = 0; e < block; e++)                                 \
                    row[e] = s * row[e];                                               \
            }                                                                          \
        }                                                                              \
        for (Py_ssize_t p = 0; p < pairs; p++) {                                       \
            const T *x = (const T *)xv[p].buf;                                         \
            const T w = (T)weights[p];                                                 \
            for (Py_ssize_t i = 0; i < k; i++) {                                       \
                T *row = data + index_at(&iv, i) * block;                              \
                const T *src = x + i * block;                                          \
                if (w == (T)1) {                                                       \
                    for (Py_ssize_t e = 0; e < block; e++)                             \
                        row[e] = row[e] + src[e];                                      \
                } else {                                                               \
                    for (Py_ssize_t e = 0; e < block; e++) {                           \
                        T prod = w * src[e];                                           \
                        row[e] = row[e] + prod;                                        \
                    }                                                                  \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    } while (0)

/* scatter_weighted_sum(data, rows, block, indices, scale, xs, weights): for every
 * i, row indices[i] of data (rows x block, float32 or float64) is multiplied by
 * scale (skipped when scale == 1), once per occurrence; then, for each X of xs in
 * order and each i in order, weight * X[i] is added to it. */
static PyObject *scatter_weighted_sum(PyObject *self, PyObject *args) {
    PyObject *data_obj, *idx_obj, *xs, *ws;
    Py_ssize_t rows, block;
    double scale;
    if (!PyArg_ParseTuple(args, "OnnOdO!O!", &data_obj, &rows, &block, &idx_obj, &scale,
                          &PyTuple_Type, &xs, &PyTuple_Type, &ws))
        return NULL;
    Py_ssize_t pairs = PyTuple_GET_SIZE(xs);
    if (PyTuple_GET_SIZE(ws) != pairs || pairs > 64 || rows < 0 || block < 0) {
        PyErr_SetString(PyExc_ValueError, "bad arguments");
        return NULL;
    }
    Py_buffer dv, iv, xv[64];
    double weights[64];
    for (Py_ssize_t p = 0; p < pairs; p++) {
        weights[p] = PyFloat_AsDouble(PyTuple_GET_ITEM(ws, p));
        if (weights[p] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    if (PyObject_GetBuffer(data_obj, &dv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT |
                                              PyBUF_WRITABLE) < 0)
        return NULL;
    int kind = kind_of(&dv);
    if ((kind != F32 && kind != F64) || dv.len != rows * block * dv.itemsize) {
        PyErr_SetString(PyExc_ValueError, "data: float32 or float64 of rows x block");
        PyBuffer_Release(&dv);
        return NULL;
    }
    if (get(idx_obj, &iv, 0, -1, -1, "indices") < 0) {
        PyBuffer_Release(&dv);
        return NULL;
    }
    Py_ssize_t k = iv.len / iv.itemsize, held = 0;
    int failed = check_indices(&iv, rows) < 0;
    while (!failed && held < pairs) {
        failed = get(PyTuple_GET_ITEM(xs, held), &xv[held], 0, kind, k * block, "X") < 0;
        if (!failed)
            held++;
    }
    if (!failed && block > 0) {
        if (kind == F32)
            SWS_LOOPS(float);
        else
            SWS_LOOPS(double);
    }
    for (Py_ssize_t p = 0; p < held; p++)
        PyBuffer_Release(&xv[p]);
    PyBuffer_Release(&iv);
    PyBuffer_Release(&dv);
    if (failed)
        return NULL;
    Py_RETURN_NONE;
}

/* The buffers of the two AdaGrad functions: param and moment written, indices and
 * grad read, all checked. */
typedef struct {
    Py_buffer p, m, i, g;
    int n;
} adagrad_bufs;

static void release(adagrad_bufs *b) {
    Py_buffer *all[4] = {&b->p, &b->m, &b->i, &b->g};
    for (int j = 0; j < b->n; j++)
        PyBuffer_Release(all[j]);
}

static int adagrad_buffers(adagrad_bufs *b, PyObject *p, PyObject *m, PyObject *i,
                           PyObject *g, Py_ssize_t rows, Py_ssize_t block,
                           Py_ssize_t moment_items) {
    b->n = 0;
    if (rows < 0 || block <= 0) {
        PyErr_SetString(PyExc_ValueError, "bad rows or block");
        return -1;
    }
    if (get(p, &b->p, 1, F32, -1, "param") < 0)
        return -1;
    b->n = 1;
    if (b->p.len / 4 < rows * block) {
        PyErr_SetString(PyExc_ValueError, "param: fewer than rows x block items");
        goto fail;
    }
    if (get(m, &b->m, 1, F32, moment_items, "moment") < 0)
        goto fail;
    b->n = 2;
    if (get(i, &b->i, 0, -1, -1, "indices") < 0)
        goto fail;
    b->n = 3;
    if (get(g, &b->g, 0, F32, (b->i.len / b->i.itemsize) * block, "grad") < 0)
        goto fail;
    b->n = 4;
    if (check_indices(&b->i, rows) < 0)
        goto fail;
    return 0;
fail:
    release(b);
    return -1;
}

/* float(double(wd) * double(w) + double(g)): std::fma(wd, w, g) in float, as the
 * numpy kernels' fma32 (the float product is exact in double). */
static inline float fma32(float wd, float w, float g) {
    return (float)((double)wd * (double)w + (double)g);
}

#if HAVE_SSE2
/* fma32 on four lanes: the products and sums in double, rounded to float once. */
static inline __m128 fma32_ps(__m128d wd, __m128 w, __m128 g) {
    __m128d lo = _mm_add_pd(_mm_mul_pd(wd, _mm_cvtps_pd(w)), _mm_cvtps_pd(g));
    __m128d hi = _mm_add_pd(_mm_mul_pd(wd, _mm_cvtps_pd(_mm_movehl_ps(w, w))),
                            _mm_cvtps_pd(_mm_movehl_ps(g, g)));
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}
#endif

/* sparse_adagrad(param, moment, indices, grad, rows, block, lr, epsilon,
 * weight_decay): SparseAdagrad's loop, one index after another. */
static PyObject *sparse_adagrad(PyObject *self, PyObject *args) {
    PyObject *p, *m, *i, *g;
    Py_ssize_t rows, block;
    float lr, eps;
    double decay;
    if (!PyArg_ParseTuple(args, "OOOOnnffd", &p, &m, &i, &g, &rows, &block, &lr, &eps,
                          &decay))
        return NULL;
    const int use_wd = decay != 0.0;
    const float wd = (float)decay;
    adagrad_bufs b;
    if (adagrad_buffers(&b, p, m, i, g, rows, block, -1) < 0)
        return NULL;
    if (b.m.len / 4 < rows * block) {
        PyErr_SetString(PyExc_ValueError, "moment: fewer than rows x block items");
        release(&b);
        return NULL;
    }
    float *w = (float *)b.p.buf, *h = (float *)b.m.buf;
    const float *grad = (const float *)b.g.buf;
    Py_ssize_t k = b.i.len / b.i.itemsize;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t off = (Py_ssize_t)index_at(&b.i, j) * block;
        const float *gj = grad + j * block;
        Py_ssize_t e = 0;
#if HAVE_SSE2
        const __m128 vlr = _mm_set1_ps(lr), veps = _mm_set1_ps(eps);
        const __m128d vwd = _mm_set1_pd((double)wd);
        for (; e + 4 <= block; e += 4) {
            __m128 gv = _mm_loadu_ps(gj + e), wv = _mm_loadu_ps(w + off + e);
            if (use_wd)
                gv = fma32_ps(vwd, wv, gv);
            __m128 hv = _mm_add_ps(_mm_loadu_ps(h + off + e), _mm_mul_ps(gv, gv));
            _mm_storeu_ps(h + off + e, hv);
            __m128 den = _mm_add_ps(_mm_sqrt_ps(hv), veps);
            __m128 step = _mm_div_ps(_mm_mul_ps(vlr, gv), den);
            _mm_storeu_ps(w + off + e, _mm_add_ps(wv, step));
        }
#endif
        for (; e < block; e++) {
            float gv = gj[e];
            if (use_wd)
                gv = fma32(wd, w[off + e], gv);
            float sq = gv * gv;
            float hv = h[off + e] + sq;
            h[off + e] = hv;
            float num = lr * gv;
            float den = sqrtf(hv) + eps;
            w[off + e] = w[off + e] + num / den;
        }
    }
    release(&b);
    Py_RETURN_NONE;
}

/* row_wise_sparse_adagrad(param, moment, indices, grad, rows, block, lr, epsilon,
 * weight_decay): RowWiseSparseAdagrad's loop (one moment value per row). */
static PyObject *row_wise_sparse_adagrad(PyObject *self, PyObject *args) {
    PyObject *p, *m, *i, *g;
    Py_ssize_t rows, block;
    float lr, eps;
    double decay;
    if (!PyArg_ParseTuple(args, "OOOOnnffd", &p, &m, &i, &g, &rows, &block, &lr, &eps,
                          &decay))
        return NULL;
    const int use_wd = decay != 0.0;
    const float wd = (float)decay;
    adagrad_bufs b;
    if (adagrad_buffers(&b, p, m, i, g, rows, block, rows) < 0)
        return NULL;
    float *w = (float *)b.p.buf, *h = (float *)b.m.buf;
    const float *grad = (const float *)b.g.buf;
    Py_ssize_t k = b.i.len / b.i.itemsize;
    float *gd = NULL;
    if (use_wd && block > 1) {
        gd = (float *)PyMem_Malloc((size_t)block * sizeof(float));
        if (gd == NULL) {
            release(&b);
            return PyErr_NoMemory();
        }
    }
    const float fblock = (float)block;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t r = (Py_ssize_t)index_at(&b.i, j);
        float *wr = w + r * block;
        const float *gj = grad + j * block;
        if (block == 1) {
            float gv = gj[0];
            if (use_wd)
                gv = fma32(wd, wr[0], gv);
            float sq = gv * gv;
            float hv = h[r] + sq;
            h[r] = hv;
            float num = lr * gv;
            float den = sqrtf(hv) + eps;
            wr[0] = wr[0] + num / den;
            continue;
        }
        if (gd != NULL) {
            for (Py_ssize_t e = 0; e < block; e++)
                gd[e] = fma32(wd, wr[e], gj[e]);
            gj = gd;
        }
        float sum = 0.0f;
        for (Py_ssize_t e = 0; e < block; e++) {
            float sq = gj[e] * gj[e];
            sum = e == 0 ? sq : sum + sq;
        }
        float hv = h[r] + sum / fblock;
        h[r] = hv;
        float step = lr / (sqrtf(hv) + eps);
        for (Py_ssize_t e = 0; e < block; e++) {
            float d = gj[e] * step;
            wr[e] = wr[e] + d;
        }
    }
    PyMem_Free(gd);
    release(&b);
    Py_RETURN_NONE;
}

/* Several float32 buffers checked together: `n` written or read ones, each of at
 * least `min_items` items (or exactly `items` when that is >= 0), released together. */
typedef struct {
    Py_buffer v[8];
    int n;
} bufs;

static void release_all(bufs *b) {
    for (int j = 0; j < b->n; j++)
        PyBuffer_Release(&b->v[j]);
    b->n = 0;
}

/* Adds `obj` as a float32 buffer (None allowed when `optional`: returns NULL data). */
static float *add_f32(bufs *b, PyObject *obj, int writable, Py_ssize_t min_items,
                      Py_ssize_t items, int optional, const char *what) {
    if (optional && obj == Py_None)
        return NULL;
    Py_buffer *v = &b->v[b->n];
    if (get(obj, v, writable, F32, items, what) < 0)
        return (float *)-1;
    b->n++;
    if (v->len / 4 < min_items) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items, expected at least %zd", what,
                     v->len / 4, min_items);
        return (float *)-1;
    }
    return (float *)v->buf;
}

#define BAD(p) ((p) == (float *)-1)

/* indices, checked against `rows`; NULL (error set) on failure. */
static Py_buffer *add_indices(bufs *b, PyObject *obj, Py_ssize_t rows) {
    Py_buffer *v = &b->v[b->n];
    if (get(obj, v, 0, -1, -1, "indices") < 0)
        return NULL;
    b->n++;
    return check_indices(v, rows) < 0 ? NULL : v;
}

/* sparse_adam(param, moment_1, moment_2, indices, grad, grad_out, rows, block, lr,
 * beta1, beta2, epsilon, mode, wide, correction, beta1_correction, r_t):
 * SparseAdam's loop. mode 0 is Adam, 1 the rectified RAdam step, 2 RAdam's
 * unrectified step; `wide` (one-element rows) keeps the corrections in double, as
 * Caffe2 did, otherwise they are floats. grad_out (k x block) or None. */
static PyObject *sparse_adam(PyObject *self, PyObject *args) {
    PyObject *p, *m1, *m2, *i, *g, *go;
    Py_ssize_t rows, block;
    float lr, b1, b2, eps, r_t;
    int mode, wide;
    double c, b1c;
    if (!PyArg_ParseTuple(args, "OOOOOOnnffffiiddf", &p, &m1, &m2, &i, &g, &go, &rows,
                          &block, &lr, &b1, &b2, &eps, &mode, &wide, &c, &b1c, &r_t))
        return NULL;
    if (rows < 0 || block <= 0 || mode < 0 || mode > 2) {
        PyErr_SetString(PyExc_ValueError, "bad rows, block or mode");
        return NULL;
    }
    bufs b = {.n = 0};
    Py_ssize_t need = rows * block;
    float *w = add_f32(&b, p, 1, need, -1, 0, "param");
    float *m = BAD(w) ? w : add_f32(&b, m1, 1, need, -1, 0, "moment_1");
    float *v = BAD(m) ? m : add_f32(&b, m2, 1, need, -1, 0, "moment_2");
    Py_buffer *iv = BAD(v) ? NULL : add_indices(&b, i, rows);
    Py_ssize_t k = iv == NULL ? 0 : iv->len / iv->itemsize;
    const float *gr = iv == NULL ? (float *)-1 : add_f32(&b, g, 0, 0, k * block, 0, "grad");
    float *out = BAD(gr) ? (float *)-1 : add_f32(&b, go, 1, 0, k * block, 1, "grad_out");
    if (BAD(out)) {
        release_all(&b);
        return NULL;
    }
    const float one_b1 = 1.0f - b1, one_b2 = 1.0f - b2;
    const float cf = (float)c, b1cf = (float)b1c;
    const float rate_rt = lr * r_t;
#if HAVE_SSE2
    /* The common case on four lanes: Adam, float corrections, no output_grad. */
    const int lanes = !wide && mode == 0 && out == NULL;
    const __m128 vb1 = _mm_set1_ps(b1), vb2 = _mm_set1_ps(b2), vob1 = _mm_set1_ps(one_b1);
    const __m128 vob2 = _mm_set1_ps(one_b2), veps = _mm_set1_ps(eps);
    const __m128 vrc = _mm_set1_ps(lr * cf);
#endif
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t off = (Py_ssize_t)index_at(iv, j) * block, e = 0;
        const float *gj = gr + j * block;
#if HAVE_SSE2
        for (; lanes && e + 4 <= block; e += 4) {
            __m128 gv = _mm_loadu_ps(gj + e);
            __m128 mv = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + off + e), vb1),
                                   _mm_mul_ps(gv, vob1));
            __m128 vv = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + off + e), vb2),
                                   _mm_mul_ps(_mm_mul_ps(gv, gv), vob2));
            _mm_storeu_ps(m + off + e, mv);
            _mm_storeu_ps(v + off + e, vv);
            __m128 denom = _mm_add_ps(_mm_sqrt_ps(vv), veps);
            __m128 step = _mm_div_ps(_mm_mul_ps(vrc, mv), denom);
            _mm_storeu_ps(w + off + e, _mm_add_ps(_mm_loadu_ps(w + off + e), step));
        }
#endif
        for (; e < block; e++) {
            float gv = gj[e];
            float t1 = m[off + e] * b1, t2 = gv * one_b1;
            float mv = t1 + t2;
            float sq = gv * gv;
            float u1 = v[off + e] * b2, u2 = sq * one_b2;
            float vv = u1 + u2;
            m[off + e] = mv;
            v[off + e] = vv;
            float denom = sqrtf(vv) + eps;
            if (out == NULL) {
                if (wide) {
                    double step;
                    if (mode == 0)
                        step = (double)lr * c * (double)mv / (double)denom;
                    else if (mode == 1)
                        step = (double)rate_rt * c * (double)mv / (double)denom;
                    else
                        step = (double)lr * b1c * (double)mv;
                    w[off + e] = (float)((double)w[off + e] + step);
                } else {
                    float step;
                    if (mode == 0)
                        step = lr * cf * mv / denom;
                    else if (mode == 1)
                        step = rate_rt * cf * mv / denom;
                    else
                        step = lr * b1cf * mv;
                    w[off + e] = w[off + e] + step;
                }
            } else {
                float ng;
                if (wide) {
                    if (mode == 0)
                        ng = (float)(c * (double)mv / (double)denom);
                    else if (mode == 1)
                        ng = (float)((double)r_t * c * (double)mv / (double)denom);
                    else
                        ng = (float)(b1c * (double)mv);
                } else {
                    if (mode == 0)
                        ng = cf * mv / denom;
                    else if (mode == 1)
                        ng = r_t * cf * mv / denom;
                    else
                        ng = b1cf * mv;
                }
                out[j * block + e] = ng;
                float step = lr * ng;
                w[off + e] = w[off + e] + step;
            }
        }
    }
    release_all(&b);
    Py_RETURN_NONE;
}

/* row_wise_sparse_adam(param, moment_1, moment_2, indices, grad, grad_out, rows,
 * block, lr, beta1, beta2, epsilon, correction): RowWiseSparseAdam's loop (one
 * moment_2 value per row, the correction a double as in Caffe2). */
static PyObject *row_wise_sparse_adam(PyObject *self, PyObject *args) {
    PyObject *p, *m1, *m2, *i, *g, *go;
    Py_ssize_t rows, block;
    float lr, b1, b2, eps;
    double c;
    if (!PyArg_ParseTuple(args, "OOOOOOnnffffd", &p, &m1, &m2, &i, &g, &go, &rows, &block,
                          &lr, &b1, &b2, &eps, &c))
        return NULL;
    if (rows < 0 || block <= 0) {
        PyErr_SetString(PyExc_ValueError, "bad rows or block");
        return NULL;
    }
    bufs b = {.n = 0};
    float *w = add_f32(&b, p, 1, rows * block, -1, 0, "param");
    float *m = BAD(w) ? w : add_f32(&b, m1, 1, rows * block, -1, 0, "moment_1");
    float *v = BAD(m) ? m : add_f32(&b, m2, 1, rows, -1, 0, "moment_2");
    Py_buffer *iv = BAD(v) ? NULL : add_indices(&b, i, rows);
    Py_ssize_t k = iv == NULL ? 0 : iv->len / iv->itemsize;
    const float *gr = iv == NULL ? (float *)-1 : add_f32(&b, g, 0, 0, k * block, 0, "grad");
    float *out = BAD(gr) ? (float *)-1 : add_f32(&b, go, 1, 0, k * block, 1, "grad_out");
    if (BAD(out)) {
        release_all(&b);
        return NULL;
    }
    const float one_b1 = 1.0f - b1, one_b2 = 1.0f - b2, fblock = (float)block;
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t r = (Py_ssize_t)index_at(iv, j), off = r * block;
        const float *gj = gr + j * block;
        float sum = 0.0f;
        for (Py_ssize_t e = 0; e < block; e++) {
            float sq = gj[e] * gj[e];
            sum = e == 0 ? sq : sum + sq;
        }
        float mean_sq = sum / fblock;
        float u1 = v[r] * b2, u2 = mean_sq * one_b2;
        float vv = u1 + u2;
        v[r] = vv;
        double denom = (double)(sqrtf(vv) + eps);
        Py_ssize_t e = 0;
#if HAVE_SSE2
        /* without output_grad: the moment in float lanes, the step in double ones */
        const __m128d vden = _mm_set1_pd(denom), vrc = _mm_set1_pd((double)lr * c);
        for (; out == NULL && e + 4 <= block; e += 4) {
            __m128 mv = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + off + e), _mm_set1_ps(b1)),
                                   _mm_mul_ps(_mm_loadu_ps(gj + e), _mm_set1_ps(one_b1)));
            _mm_storeu_ps(m + off + e, mv);
            __m128 wv = _mm_loadu_ps(w + off + e);
            __m128d lo = _mm_div_pd(_mm_mul_pd(vrc, _mm_cvtps_pd(mv)), vden);
            __m128d hi = _mm_div_pd(_mm_mul_pd(vrc, _mm_cvtps_pd(_mm_movehl_ps(mv, mv))),
                                    vden);
            lo = _mm_add_pd(_mm_cvtps_pd(wv), lo);
            hi = _mm_add_pd(_mm_cvtps_pd(_mm_movehl_ps(wv, wv)), hi);
            _mm_storeu_ps(w + off + e, _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)));
        }
#endif
        for (; e < block; e++) {
            float t1 = m[off + e] * b1, t2 = gj[e] * one_b1;
            float mv = t1 + t2;
            m[off + e] = mv;
            if (out == NULL) {
                double step = (double)lr * c * (double)mv / denom;
                w[off + e] = (float)((double)w[off + e] + step);
            } else {
                float ng = (float)(c * (double)mv / denom);
                out[j * block + e] = ng;
                float step = lr * ng;
                w[off + e] = w[off + e] + step;
            }
        }
    }
    release_all(&b);
    Py_RETURN_NONE;
}

/* sparse_momentum_sgd(param, moment, indices, grad, grad_out, rows, block, lr,
 * momentum, nesterov): SparseMomentumSGDUpdate's loop; grad_out (k x block) gets
 * each slice's adjusted gradient. */
static PyObject *sparse_momentum_sgd(PyObject *self, PyObject *args) {
    PyObject *p, *mo, *i, *g, *go;
    Py_ssize_t rows, block;
    float lr, mu;
    int nesterov;
    if (!PyArg_ParseTuple(args, "OOOOOnnffp", &p, &mo, &i, &g, &go, &rows, &block, &lr,
                          &mu, &nesterov))
        return NULL;
    if (rows < 0 || block <= 0) {
        PyErr_SetString(PyExc_ValueError, "bad rows or block");
        return NULL;
    }
    bufs b = {.n = 0};
    float *w = add_f32(&b, p, 1, rows * block, -1, 0, "param");
    float *m = BAD(w) ? w : add_f32(&b, mo, 1, rows * block, -1, 0, "moment");
    Py_buffer *iv = BAD(m) ? NULL : add_indices(&b, i, rows);
    Py_ssize_t k = iv == NULL ? 0 : iv->len / iv->itemsize;
    const float *gr = iv == NULL ? (float *)-1 : add_f32(&b, g, 0, 0, k * block, 0, "grad");
    float *out = BAD(gr) ? (float *)-1 : add_f32(&b, go, 1, 0, k * block, 0, "grad_out");
    if (BAD(out)) {
        release_all(&b);
        return NULL;
    }
    const float one_mu = 1.0f + mu;
#if HAVE_SSE2
    const __m128 vlr = _mm_set1_ps(lr), vmu = _mm_set1_ps(mu), vone_mu = _mm_set1_ps(one_mu);
#endif
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t off = (Py_ssize_t)index_at(iv, j) * block, e = 0;
#if HAVE_SSE2
        for (; e + 4 <= block; e += 4) {
            __m128 t1 = _mm_mul_ps(vlr, _mm_loadu_ps(gr + j * block + e));
            __m128 t2 = _mm_mul_ps(vmu, _mm_loadu_ps(m + off + e));
            __m128 new_m = _mm_add_ps(t2, t1), adjusted = new_m;
            if (nesterov)
                adjusted = _mm_sub_ps(_mm_mul_ps(vone_mu, new_m), t2);
            _mm_storeu_ps(m + off + e, new_m);
            _mm_storeu_ps(w + off + e, _mm_sub_ps(_mm_loadu_ps(w + off + e), adjusted));
            _mm_storeu_ps(out + j * block + e, adjusted);
        }
#endif
        for (; e < block; e++) {
            float gv = gr[j * block + e], mv = m[off + e], adjusted, new_m;
            float t1 = lr * gv, t2 = mu * mv;
            if (!nesterov) {
                adjusted = t2 + t1;
                new_m = adjusted;
            } else {
                new_m = t2 + t1;
                float a1 = one_mu * new_m;
                adjusted = a1 - t2;
            }
            m[off + e] = new_m;
            w[off + e] = w[off + e] - adjusted;
            out[j * block + e] = adjusted;
        }
    }
    release_all(&b);
    Py_RETURN_NONE;
}

/* sparse_ftrl(var, n_z, indices, grad, rows, block, alpha_inv, beta, lambda1,
 * lambda2): SparseFtrl's loop, FTRL-Proximal in float; n_z holds (n, z) pairs. */
static PyObject *sparse_ftrl(PyObject *self, PyObject *args) {
    PyObject *p, *nzo, *i, *g;
    Py_ssize_t rows, block;
    float alpha_inv, beta, l1, l2;
    if (!PyArg_ParseTuple(args, "OOOOnnffff", &p, &nzo, &i, &g, &rows, &block, &alpha_inv,
                          &beta, &l1, &l2))
        return NULL;
    if (rows < 0 || block <= 0) {
        PyErr_SetString(PyExc_ValueError, "bad rows or block");
        return NULL;
    }
    bufs b = {.n = 0};
    float *w = add_f32(&b, p, 1, rows * block, -1, 0, "var");
    float *nz = BAD(w) ? w : add_f32(&b, nzo, 1, 2 * rows * block, -1, 0, "n_z");
    Py_buffer *iv = BAD(nz) ? NULL : add_indices(&b, i, rows);
    Py_ssize_t k = iv == NULL ? 0 : iv->len / iv->itemsize;
    const float *gr = iv == NULL ? (float *)-1 : add_f32(&b, g, 0, 0, k * block, 0, "grad");
    if (BAD(gr)) {
        release_all(&b);
        return NULL;
    }
#if HAVE_SSE2
    const __m128 vai = _mm_set1_ps(alpha_inv), vbeta = _mm_set1_ps(beta);
    const __m128 vl1 = _mm_set1_ps(l1), vl2 = _mm_set1_ps(l2), zero = _mm_setzero_ps();
    const __m128 one = _mm_set1_ps(1.0f), minus_one = _mm_set1_ps(-1.0f);
    const __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
#endif
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t off = (Py_ssize_t)index_at(iv, j) * block, e = 0;
#if HAVE_SSE2
        for (; e + 4 <= block; e += 4) {
            float *pairs = nz + 2 * (off + e);
            __m128 p0 = _mm_loadu_ps(pairs), p1 = _mm_loadu_ps(pairs + 4);
            __m128 n = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0));
            __m128 z = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
            __m128 gv = _mm_loadu_ps(gr + j * block + e), wv = _mm_loadu_ps(w + off + e);
            __m128 new_n = _mm_add_ps(n, _mm_mul_ps(gv, gv));
            __m128 sqrt_new = _mm_sqrt_ps(new_n);
            __m128 sigma = _mm_mul_ps(_mm_sub_ps(sqrt_new, _mm_sqrt_ps(n)), vai);
            __m128 new_z = _mm_sub_ps(_mm_add_ps(z, gv), _mm_mul_ps(sigma, wv));
            /* sign(new_z): 0 for zero and NaN, lanes never selected below */
            __m128 sign = _mm_or_ps(_mm_and_ps(_mm_cmpgt_ps(new_z, zero), one),
                                    _mm_and_ps(_mm_cmplt_ps(new_z, zero), minus_one));
            __m128 den = _mm_add_ps(_mm_mul_ps(_mm_add_ps(vbeta, sqrt_new), vai), vl2);
            __m128 shrunk = _mm_div_ps(_mm_sub_ps(_mm_mul_ps(vl1, sign), new_z), den);
            __m128 keep = _mm_cmpgt_ps(_mm_and_ps(new_z, magnitude), vl1);
            _mm_storeu_ps(w + off + e, _mm_and_ps(keep, shrunk));
            _mm_storeu_ps(pairs, _mm_unpacklo_ps(new_n, new_z));
            _mm_storeu_ps(pairs + 4, _mm_unpackhi_ps(new_n, new_z));
        }
#endif
        for (; e < block; e++) {
            float gv = gr[j * block + e], wv = w[off + e];
            float *pair = nz + 2 * (off + e);
            float n = pair[0], z = pair[1];
            float sq = gv * gv;
            float new_n = n + sq;
            float sqrt_new = sqrtf(new_n);
            float diff = sqrt_new - sqrtf(n);
            float sigma = diff * alpha_inv;
            float zg = z + gv, sw = sigma * wv;
            float new_z = zg - sw;
            float sign = new_z > 0.0f ? 1.0f : new_z < 0.0f ? -1.0f : new_z == 0.0f ? 0.0f : new_z;
            float num = l1 * sign, den1 = beta + sqrt_new;
            float den2 = den1 * alpha_inv;
            float den = den2 + l2;
            float shrunk = (num - new_z) / den;
            w[off + e] = fabsf(new_z) > l1 ? shrunk : 0.0f;
            pair[0] = new_n;
            pair[1] = new_z;
        }
    }
    release_all(&b);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scatter_weighted_sum", scatter_weighted_sum, METH_VARARGS,
     "scatter_weighted_sum(data, rows, block, indices, scale, xs, weights)"},
    {"sparse_adagrad", sparse_adagrad, METH_VARARGS,
     "sparse_adagrad(param, moment, indices, grad, rows, block, lr, epsilon, "
     "weight_decay)"},
    {"row_wise_sparse_adagrad", row_wise_sparse_adagrad, METH_VARARGS,
     "row_wise_sparse_adagrad(param, moment, indices, grad, rows, block, lr, epsilon, "
     "weight_decay)"},
    {"sparse_adam", sparse_adam, METH_VARARGS,
     "sparse_adam(param, moment_1, moment_2, indices, grad, grad_out, rows, block, lr, "
     "beta1, beta2, epsilon, mode, wide, correction, beta1_correction, r_t)"},
    {"row_wise_sparse_adam", row_wise_sparse_adam, METH_VARARGS,
     "row_wise_sparse_adam(param, moment_1, moment_2, indices, grad, grad_out, rows, "
     "block, lr, beta1, beta2, epsilon, correction)"},
    {"sparse_momentum_sgd", sparse_momentum_sgd, METH_VARARGS,
     "sparse_momentum_sgd(param, moment, indices, grad, grad_out, rows, block, lr, "
     "momentum, nesterov)"},
    {"sparse_ftrl", sparse_ftrl, METH_VARARGS,
     "sparse_ftrl(var, n_z, indices, grad, rows, block, alpha_inv, beta, lambda1, "
     "lambda2)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_caffe2lite_sparse_update",
    "Compiled loops of caffe2lite's in-place sparse parameter updates.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__caffe2lite_sparse_update(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
