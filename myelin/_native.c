/* myelin's optional native kernels: each optimizer rule as one pass over memory.
 *
 * The NumPy form of a rule (myelin/optimizers/__init__.py) makes about a dozen passes over
 * every parameter, one per ufunc; this file makes one. Each loop performs exactly the float
 * operations of the NumPy form, in the same order, each rounded to the element type, so the
 * results are equal bit for bit (tests/test_native.py checks that):
 *   - compiled with -ffp-contract=off, so no multiply-add is fused into one rounding;
 *   - sqrt and division are IEEE-exact here as in NumPy; -fno-math-errno only lets the
 *     compiler use the vector square root instruction.
 *
 * Optimizer state never holds a subnormal number: every state value stored is flushed to +0
 * when its magnitude is below the type's smallest normal number (FLUSH below). The NumPy forms
 * flush the same slots after the same operations, so the two stay equal bit for bit. The flush
 * is an explicit comparison: the caller's floating-point mode (FTZ/DAZ) is never changed.
 *
 * Plain C with no Python headers: myelin/native.py loads the built file with ctypes, and
 * falls back to the NumPy form when it is absent (no compiler at install time). Each rule
 * exists for float and double; target_clones builds AVX-512, AVX2 and baseline versions
 * and picks one when the library loads.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>

/* x, or +0 when |x| is subnormal (or -0); NaN and infinities pass unchanged. */
#define FLUSH(x, MINV) (((x) < (MINV) && (x) > -(MINV)) ? 0 : (x))

#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MYELIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef MYELIN_CLONES
#define MYELIN_CLONES
#endif

#if defined(_MSC_VER)
#define MYELIN_EXPORT __declspec(dllexport)
#define RESTRICT __restrict
#else
#define MYELIN_EXPORT
#define RESTRICT restrict
#endif

/* Adam (Keras's form): m <- m + (g - m) c1;  v <- v + (g*g - v) c2;
 * p <- p - (m / (sqrt(v) + eps)) alpha,  with c1 = 1 - beta_1, c2 = 1 - beta_2 and
 * alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) computed by the caller. */
#define ADAM(NAME, T, SQRT, MINV)                                                             \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT m, \
                                          T *RESTRICT v, size_t n, T c1, T c2, T eps,         \
                                          T alpha) {                                          \
        for (size_t i = 0; i < n; i++) {                                                      \
            T gi = g[i];                                                                      \
            T mi = m[i] + (gi - m[i]) * c1;                                                   \
            T vi = v[i] + (gi * gi - v[i]) * c2;                                              \
            m[i] = FLUSH(mi, MINV);                                                           \
            v[i] = FLUSH(vi, MINV);                                                           \
            p[i] -= (mi / (SQRT(vi) + eps)) * alpha;                                          \
        }                                                                                     \
    }

/* SGD (Keras's form): without momentum p <- p - g lr; with momentum mu,
 * v <- v mu - g lr, then p <- p + v, or with Nesterov p <- (p - g lr) + v mu. */
#define SGD(NAME, T, MINV)                                                                    \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT v, \
                                          size_t n, T lr, T mu, int nesterov) {               \
        if (v == NULL) {                                                                      \
            for (size_t i = 0; i < n; i++) p[i] -= g[i] * lr;                                 \
        } else if (nesterov) {                                                                \
            for (size_t i = 0; i < n; i++) {                                                  \
                T step = g[i] * lr;                                                           \
                T vi = v[i] * mu - step;                                                      \
                v[i] = FLUSH(vi, MINV);                                                       \
                p[i] = (p[i] - step) + vi * mu;                                               \
            }                                                                                 \
        } else {                                                                              \
            for (size_t i = 0; i < n; i++) {                                                  \
                T vi = v[i] * mu - g[i] * lr;                                                 \
                v[i] = FLUSH(vi, MINV);                                                       \
                p[i] += vi;                                                                   \
            }                                                                                 \
        }                                                                                     \
    }

/* RMSprop (Keras's form, not centered): s <- s rho + g*g c;  step = (g / sqrt(s + eps)) lr,
 * c = 1 - rho; with momentum mu, w <- w mu + step and p <- p - w, else p <- p - step. */
#define RMSPROP(NAME, T, SQRT, MINV)                                                          \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT s, \
                                          T *RESTRICT w, size_t n, T rho, T c, T eps, T lr,   \
                                          T mu) {                                             \
        for (size_t i = 0; i < n; i++) {                                                      \
            T gi = g[i];                                                                      \
            T si = s[i] * rho + (gi * gi) * c;                                                \
            s[i] = FLUSH(si, MINV);                                                           \
            T step = (gi / SQRT(si + eps)) * lr;                                              \
            if (w != NULL) {                                                                  \
                T wi = w[i] * mu + step;                                                      \
                w[i] = FLUSH(wi, MINV);                                                       \
                p[i] -= wi;                                                                   \
            } else {                                                                          \
                p[i] -= step;                                                                 \
            }                                                                                 \
        }                                                                                     \
    }

ADAM(myelin_adam_f32, float, sqrtf, FLT_MIN)
ADAM(myelin_adam_f64, double, sqrt, DBL_MIN)
SGD(myelin_sgd_f32, float, FLT_MIN)
SGD(myelin_sgd_f64, double, DBL_MIN)
RMSPROP(myelin_rmsprop_f32, float, sqrtf, FLT_MIN)
RMSPROP(myelin_rmsprop_f64, double, sqrt, DBL_MIN)

/* ---------------------------------------------------------------- convolution and pooling
 *
 * Channels-last arrays of up to three spatial axes (callers give rank-1 and rank-2 shapes
 * as rank 3 with leading sizes of 1). Every geometry comes as one array of int64:
 *   g[0] batch, g[1] channels, g[2..4] padded input sizes, g[5..7] output (window) sizes,
 *   g[8..10] window taps per axis, g[11..13] strides, g[14..16] dilations.
 * Each loop does, for every element, the float operations of the NumPy form in
 * myelin/ops/convolution.py in the same order, so the results are equal bit for bit. The
 * batch item is the outer loop: its input and output slices stay in cache across taps. */

typedef long long i64;

#define GEOM                                                                                    \
    const i64 nb = g[0], c = g[1], P0 = g[2], P1 = g[3], P2 = g[4], O0 = g[5], O1 = g[6],     \
              O2 = g[7], K0 = g[8], K1 = g[9], K2 = g[10], S0 = g[11], S1 = g[12], S2 = g[13],  \
              D0 = g[14], D1 = g[15], D2 = g[16];                                               \
    const i64 taps = K0 * K1 * K2, outs = O0 * O1 * O2, padded = P0 * P1 * P2;                 \
    (void)taps; (void)outs; (void)D0; (void)D1; (void)D2

/* col2im: dst (batch, *padded, c) = 0, then for each window tap in order, for each output
 * position, dst[position * stride + tap * dilation] += cols[position, tap] (cols is
 * (batch, *outs, *taps, c)): NumPy's zeros and one += per tap. */
#define COL2IM(NAME, T)                                                                        \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT cols, T *RESTRICT dst,            \
                                          const i64 *g) {                                      \
        GEOM;                                                                                  \
        for (i64 b = 0; b < nb; b++) {                                                         \
            T *db = dst + b * padded * c;                                                      \
            const T *cb = cols + b * outs * taps * c;                                          \
            for (i64 i = 0; i < padded * c; i++) db[i] = 0;                                    \
            i64 t = 0;                                                                         \
            for (i64 k0 = 0; k0 < K0; k0++)                                                    \
                for (i64 k1 = 0; k1 < K1; k1++)                                                \
                    for (i64 k2 = 0; k2 < K2; k2++, t++) {                                     \
                        i64 o = 0;                                                             \
                        for (i64 o0 = 0; o0 < O0; o0++)                                        \
                            for (i64 o1 = 0; o1 < O1; o1++) {                                  \
                                T *d = db + (((o0 * S0 + k0 * D0) * P1 + o1 * S1 + k1 * D1) * P2 \
                                             + k2 * D2) * c;                                   \
                                for (i64 o2 = 0; o2 < O2; o2++, o++) {                         \
                                    const T *s = cb + (o * taps + t) * c;                      \
                                    T *dd = d + o2 * S2 * c;                                   \
                                    for (i64 ch = 0; ch < c; ch++) dd[ch] += s[ch];            \
                                }                                                              \
                            }                                                                  \
                    }                                                                          \
        }                                                                                      \
    }

/* im2col: cols (batch, *outs, *taps, c) = the windows of x (batch, *padded, c), a copy.
 * With dilation 1 along the last axis a window row of K2 * c numbers is contiguous in x. */
#define IM2COL(NAME, T)                                                                        \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT x, T *RESTRICT cols,              \
                                          const i64 *g) {                                      \
        GEOM;                                                                                  \
        T *dst = cols;                                                                         \
        for (i64 b = 0; b < nb; b++) {                                                         \
            const T *xb = x + b * padded * c;                                                  \
            for (i64 o0 = 0; o0 < O0; o0++)                                                    \
                for (i64 o1 = 0; o1 < O1; o1++)                                                \
                    for (i64 o2 = 0; o2 < O2; o2++) {                                          \
                        const T *w = xb + ((o0 * S0 * P1 + o1 * S1) * P2 + o2 * S2) * c;       \
                        for (i64 k0 = 0; k0 < K0; k0++)                                        \
                            for (i64 k1 = 0; k1 < K1; k1++) {                                  \
                                const T *row = w + ((k0 * D0 * P1) + k1 * D1) * P2 * c;        \
                                if (D2 == 1 && K2 * c == 3) { /* a 3-wide kernel, 1 channel */ \
                                    dst[0] = row[0];                                           \
                                    dst[1] = row[1];                                           \
                                    dst[2] = row[2];                                           \
                                    dst += 3;                                                  \
                                } else if (D2 == 1) {                                          \
                                    for (i64 j = 0; j < K2 * c; j++) dst[j] = row[j];          \
                                    dst += K2 * c;                                             \
                                } else {                                                       \
                                    for (i64 k2 = 0; k2 < K2; k2++, dst += c)                  \
                                        for (i64 ch = 0; ch < c; ch++)                         \
                                            dst[ch] = row[k2 * D2 * c + ch];                   \
                                }                                                              \
                            }                                                                  \
                    }                                                                          \
        }                                                                                      \
    }

/* NumPy's maximum(a, b): NaN when either is NaN (a's first), a when a > b, else b. */
#define NP_MAX(a, b) ((a) != (a) ? (a) : ((b) != (b) ? (b) : ((a) > (b) ? (a) : (b))))

/* Max pooling forward (dilation 1): best = the window's first tap, then for each later tap
 * best = maximum(best, tap), remembering in arg the last tap that was greater than the
 * running maximum (the first maximum of the window; ties and NaN never win). x is the
 * padded input (batch, *padded, c); best and arg are (batch, *outs, c). */
#define MAXPOOL_FWD(NAME, T)                                                                   \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT x, T *RESTRICT best,              \
                                          unsigned char *RESTRICT arg, const i64 *g) {         \
        GEOM;                                                                                  \
        for (i64 b = 0; b < nb; b++) {                                                         \
            const T *xb = x + b * padded * c;                                                  \
            i64 o = b * outs;                                                                  \
            for (i64 o0 = 0; o0 < O0; o0++)                                                    \
                for (i64 o1 = 0; o1 < O1; o1++)                                                \
                    for (i64 o2 = 0; o2 < O2; o2++, o++) {                                     \
                        T *bo = best + o * c;                                                  \
                        unsigned char *ao = arg + o * c;                                       \
                        const T *w = xb + ((o0 * S0 * P1 + o1 * S1) * P2 + o2 * S2) * c;       \
                        for (i64 ch = 0; ch < c; ch++) {                                       \
                            bo[ch] = w[ch];                                                    \
                            ao[ch] = 0;                                                        \
                        }                                                                      \
                        unsigned char t = 0;                                                   \
                        for (i64 k0 = 0; k0 < K0; k0++)                                        \
                            for (i64 k1 = 0; k1 < K1; k1++)                                    \
                                for (i64 k2 = 0; k2 < K2; k2++, t++) {                         \
                                    if (t == 0) continue;                                      \
                                    const T *v = w + ((k0 * P1 + k1) * P2 + k2) * c;           \
                                    for (i64 ch = 0; ch < c; ch++) {                           \
                                        T vi = v[ch], bi = bo[ch];                             \
                                        ao[ch] = vi > bi ? t : ao[ch];                         \
                                        bo[ch] = NP_MAX(bi, vi);                               \
                                    }                                                          \
                                }                                                              \
                    }                                                                          \
        }                                                                                      \
    }

/* Max pooling backward: dst (batch, *padded, c) = 0, then for each tap from the last,
 * dst[window tap] (+)= grad * (arg == tap): assigned when the windows are disjoint, added
 * otherwise, exactly NumPy's form (which multiplies by the boolean hit mask). Disjoint
 * windows write each element at most once, so there the window is the outer loop (writes
 * stay together); overlapping ones keep NumPy's order of the sums, tap by tap. The int
 * compare of the tap is what lets GCC vectorize the channel loops. Windows that tile dst
 * exactly write each element once, so there the zeros are not written first. */
#define MAXPOOL_BWD(NAME, T)                                                                   \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT grad,                              \
                                          const unsigned char *RESTRICT arg, T *RESTRICT dst,  \
                                          const i64 *g, int disjoint) {                        \
        GEOM;                                                                                  \
        /* Windows that tile the input (a 2x2 pool of stride 2 over an even size) write every  \
         * element once: no zeros first. */                                                    \
        const int tiled = disjoint && S0 == K0 && S1 == K1 && S2 == K2 && O0 * S0 == P0        \
                          && O1 * S1 == P1 && O2 * S2 == P2;                                   \
        for (i64 b = 0; b < nb; b++) {                                                         \
            T *db = dst + b * padded * c;                                                      \
            if (!tiled)                                                                        \
                for (i64 i = 0; i < padded * c; i++) db[i] = 0;                                \
            if (disjoint) {                                                                    \
                i64 o = b * outs;                                                              \
                for (i64 o0 = 0; o0 < O0; o0++)                                                \
                    for (i64 o1 = 0; o1 < O1; o1++)                                            \
                        for (i64 o2 = 0; o2 < O2; o2++, o++) {                                 \
                            const T *go = grad + o * c;                                        \
                            const unsigned char *ao = arg + o * c;                             \
                            T *w = db + ((o0 * S0 * P1 + o1 * S1) * P2 + o2 * S2) * c;         \
                            int t = 0;                                                         \
                            for (i64 k0 = 0; k0 < K0; k0++)                                    \
                                for (i64 k1 = 0; k1 < K1; k1++)                                \
                                    for (i64 k2 = 0; k2 < K2; k2++, t++) {                     \
                                        T *d = w + ((k0 * P1 + k1) * P2 + k2) * c;             \
                                        for (i64 ch = 0; ch < c; ch++) {                       \
                                            int m = (int)ao[ch] == t;                          \
                                            d[ch] = go[ch] * (T)m;                             \
                                        }                                                      \
                                    }                                                          \
                        }                                                                      \
                continue;                                                                      \
            }                                                                                  \
            for (i64 t = taps - 1; t >= 0; t--) {                                              \
                const i64 k0 = t / (K1 * K2), k1 = (t / K2) % K1, k2 = t % K2;                 \
                const int tt = (int)t;                                                         \
                i64 o = b * outs;                                                              \
                for (i64 o0 = 0; o0 < O0; o0++)                                                \
                    for (i64 o1 = 0; o1 < O1; o1++)                                            \
                        for (i64 o2 = 0; o2 < O2; o2++, o++) {                                 \
                            const T *go = grad + o * c;                                        \
                            const unsigned char *ao = arg + o * c;                             \
                            T *d = db + (((o0 * S0 + k0) * P1 + o1 * S1 + k1) * P2 + o2 * S2   \
                                         + k2) * c;                                            \
                            for (i64 ch = 0; ch < c; ch++) {                                   \
                                int m = (int)ao[ch] == tt;                                     \
                                d[ch] += go[ch] * (T)m;                                        \
                            }                                                                  \
                        }                                                                      \
            }                                                                                  \
        }                                                                                      \
    }

/* A layer's bias and activation on its (rows, cols) product in place, one pass: out += bias,
 * then with relu out = maximum(out, 0), NumPy's two in-place operations. */
#define BIAS_RELU(NAME, T)                                                                     \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT out, const T *RESTRICT bias, size_t rows,\
                                          size_t cols, int relu) {                             \
        for (size_t r = 0; r < rows; r++) {                                                    \
            T *o = out + r * cols;                                                             \
            if (relu) {                                                                        \
                for (size_t j = 0; j < cols; j++) {                                            \
                    T v = o[j] + bias[j];                                                      \
                    o[j] = NP_MAX(v, (T)0);                                                    \
                }                                                                              \
            } else {                                                                           \
                for (size_t j = 0; j < cols; j++) o[j] += bias[j];                             \
            }                                                                                  \
        }                                                                                      \
    }

/* The ReLU's gradient: res = grad * (out > 0), NumPy's multiply by the boolean mask. */
#define RELU_GRAD(NAME, T)                                                                     \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT grad, const T *RESTRICT out,      \
                                          T *RESTRICT res, size_t n) {                         \
        for (size_t i = 0; i < n; i++) res[i] = grad[i] * (T)(out[i] > 0);                     \
    }

/* A product with a short sum (a first convolution's taps x channels: 9 for a gray 3x3
 * kernel, 27 for RGB), rows lo..hi, with its bias and ReLU: out[r] = act(cols[r] @ w + bias).
 * BLAS packs both operands of such a product and the bias and ReLU then read and write the
 * long output once more; here four output rows are summed in registers, 16 columns at a
 * time, and written once. bias is F numbers (zeros for none). Each sum runs over k in order,
 * then + bias: the numbers agree with the BLAS path to rounding (BLAS fuses multiply-adds),
 * not bit for bit. The exported function calls the body with F a constant for the common
 * widths (16, 32, 64 filters): the compiler then unrolls the column loops and fixes the
 * offsets, twice as fast as with F unknown. */
#if defined(__GNUC__)
#define SMALLK_INLINE __attribute__((always_inline))
#else
#define SMALLK_INLINE
#endif

/* The bias and activation on `rows` output rows just written (in L1): BIAS_RELU's pass. */
#define SMALLK_FINISH(T, o, rows)                                                              \
    for (i64 q_ = 0; q_ < (rows); q_++) {                                                      \
        T *oq_ = (o) + q_ * F;                                                                 \
        if (relu)                                                                              \
            for (i64 f_ = 0; f_ < F; f_++) {                                                   \
                const T v_ = oq_[f_] + bias[f_];                                               \
                oq_[f_] = NP_MAX(v_, (T)0);                                                    \
            }                                                                                  \
        else                                                                                   \
            for (i64 f_ = 0; f_ < F; f_++) oq_[f_] += bias[f_];                                \
    }

#define SMALLK_FWD(NAME, T)                                                                    \
    static inline SMALLK_INLINE void NAME##_body(const T *RESTRICT cols, const T *RESTRICT w,  \
                                                const T *RESTRICT bias, T *RESTRICT out,       \
                                                i64 K, const i64 F, int relu, i64 lo, i64 hi) {\
        i64 r = lo;                                                                            \
        for (; r + 4 <= hi; r += 4) { /* four rows: four independent sums per weight load */  \
            const T *x = cols + r * K;                                                         \
            i64 f0 = 0;                                                                        \
            for (; f0 + 16 <= F; f0 += 16) {                                                   \
                T a0[16], a1[16], a2[16], a3[16];                                              \
                for (int j = 0; j < 16; j++) a0[j] = a1[j] = a2[j] = a3[j] = 0;                \
                for (i64 k = 0; k < K; k++) {                                                  \
                    const T *wk = w + k * F + f0;                                              \
                    const T x0 = x[k], x1 = x[K + k], x2 = x[2 * K + k], x3 = x[3 * K + k];    \
                    for (int j = 0; j < 16; j++) {                                             \
                        a0[j] += x0 * wk[j];                                                   \
                        a1[j] += x1 * wk[j];                                                   \
                        a2[j] += x2 * wk[j];                                                   \
                        a3[j] += x3 * wk[j];                                                   \
                    }                                                                          \
                }                                                                              \
                T *o = out + r * F + f0;                                                       \
                for (int j = 0; j < 16; j++) {                                                 \
                    o[j] = a0[j];                                                              \
                    o[F + j] = a1[j];                                                          \
                    o[2 * F + j] = a2[j];                                                      \
                    o[3 * F + j] = a3[j];                                                      \
                }                                                                              \
            }                                                                                  \
            for (; f0 < F; f0++)                                                               \
                for (int q = 0; q < 4; q++) {                                                  \
                    T acc = 0;                                                                 \
                    for (i64 k = 0; k < K; k++) acc += x[q * K + k] * w[k * F + f0];           \
                    out[(r + q) * F + f0] = acc;                                               \
                }                                                                              \
            SMALLK_FINISH(T, out + r * F, 4);                                                  \
        }                                                                                      \
        for (; r < hi; r++) {                                                                  \
            for (i64 f0 = 0; f0 < F; f0++) {                                                   \
                T acc = 0;                                                                     \
                for (i64 k = 0; k < K; k++) acc += cols[r * K + k] * w[k * F + f0];            \
                out[r * F + f0] = acc;                                                         \
            }                                                                                  \
            SMALLK_FINISH(T, out + r * F, 1);                                                  \
        }                                                                                      \
    }                                                                                          \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT cols, const T *RESTRICT w,         \
                                          const T *RESTRICT bias, T *RESTRICT out, i64 K,      \
                                          i64 F, int relu, i64 lo, i64 hi) {                   \
        switch (F) { /* the common widths with F known: its loops unrolled, offsets fixed */   \
        case 16: NAME##_body(cols, w, bias, out, K, 16, relu, lo, hi); break;                  \
        case 32: NAME##_body(cols, w, bias, out, K, 32, relu, lo, hi); break;                  \
        case 64: NAME##_body(cols, w, bias, out, K, 64, relu, lo, hi); break;                  \
        default: NAME##_body(cols, w, bias, out, K, F, relu, lo, hi);                          \
        }                                                                                      \
    }

/* Its backward when the input needs no gradient (the data batch): the ReLU's mask, the
 * kernel's gradient cols^T @ (g * (out > 0)) and the bias's column sums in one pass over g
 * and out, which are never written. The rows are cut into chunks of `chunk` rows; chunk c
 * (c_lo <= c < c_hi) writes its own sums into gw_parts[c] (K x F) and gb_parts[c] (F), which
 * the caller adds up in chunk order: the same numbers on one thread or many. out NULL: no
 * activation; gb_parts NULL: no bias. F <= SMALLK_SCRATCH (the caller checks). */
#define SMALLK_SCRATCH 4096
#define SMALLK_BWD(NAME, T)                                                                    \
    static inline SMALLK_INLINE void NAME##_body(const T *RESTRICT g, const T *RESTRICT out,   \
                                                const T *RESTRICT cols, T *RESTRICT gw_parts,  \
                                                T *RESTRICT gb_parts, i64 m, i64 K, const i64 F,\
                                                i64 chunk, i64 c_lo, i64 c_hi) {               \
        T masked[SMALLK_SCRATCH];                                                              \
        const i64 block = SMALLK_SCRATCH / F;                                                  \
        for (i64 c = c_lo; c < c_hi; c++) {                                                    \
            T *gw = gw_parts + c * K * F, *gb = gb_parts ? gb_parts + c * F : NULL;            \
            for (i64 i = 0; i < K * F; i++) gw[i] = 0;                                         \
            if (gb)                                                                            \
                for (i64 f = 0; f < F; f++) gb[f] = 0;                                         \
            const i64 end = (c + 1) * chunk < m ? (c + 1) * chunk : m;                         \
            for (i64 r0 = c * chunk; r0 < end; r0 += block) {                                  \
                const i64 rows = end - r0 < block ? end - r0 : block;                          \
                const T *gm = g + r0 * F;                                                      \
                if (out) {                                                                     \
                    const T *o = out + r0 * F;                                                 \
                    for (i64 i = 0; i < rows * F; i++) masked[i] = gm[i] * (T)(o[i] > 0);      \
                    gm = masked;                                                               \
                }                                                                              \
                if (gb)                                                                        \
                    for (i64 i = 0; i < rows; i++)                                             \
                        for (i64 f = 0; f < F; f++) gb[f] += gm[i * F + f];                    \
                const T *x = cols + r0 * K;                                                    \
                i64 f0 = 0;                                                                    \
                for (; f0 + 16 <= F; f0 += 16) {                                               \
                    i64 k = 0;                                                                 \
                    for (; k + 8 <= K; k += 8) { /* eight taps: eight sums per row's load */   \
                        T c0[16], c1[16], c2[16], c3[16], c4[16], c5[16], c6[16], c7[16];      \
                        for (int j = 0; j < 16; j++)                                           \
                            c0[j] = c1[j] = c2[j] = c3[j] = c4[j] = c5[j] = c6[j] = c7[j] = 0; \
                        for (i64 i = 0; i < rows; i++) {                                       \
                            const T *gr = gm + i * F + f0, *xi = x + i * K + k;                \
                            const T x0 = xi[0], x1 = xi[1], x2 = xi[2], x3 = xi[3], x4 = xi[4],\
                                    x5 = xi[5], x6 = xi[6], x7 = xi[7];                        \
                            for (int j = 0; j < 16; j++) {                                     \
                                const T v = gr[j];                                             \
                                c0[j] += x0 * v;                                               \
                                c1[j] += x1 * v;                                               \
                                c2[j] += x2 * v;                                               \
                                c3[j] += x3 * v;                                               \
                                c4[j] += x4 * v;                                               \
                                c5[j] += x5 * v;                                               \
                                c6[j] += x6 * v;                                               \
                                c7[j] += x7 * v;                                               \
                            }                                                                  \
                        }                                                                      \
                        T *gk = gw + k * F + f0;                                               \
                        for (int j = 0; j < 16; j++) {                                         \
                            gk[j] += c0[j];                                                    \
                            gk[F + j] += c1[j];                                                \
                            gk[2 * F + j] += c2[j];                                            \
                            gk[3 * F + j] += c3[j];                                            \
                            gk[4 * F + j] += c4[j];                                            \
                            gk[5 * F + j] += c5[j];                                            \
                            gk[6 * F + j] += c6[j];                                            \
                            gk[7 * F + j] += c7[j];                                            \
                        }                                                                      \
                    }                                                                          \
                    for (; k < K; k++) { /* the taps left, four rows at a time: four sums */   \
                        T a0[16], a1[16], a2[16], a3[16];                                      \
                        for (int j = 0; j < 16; j++) a0[j] = a1[j] = a2[j] = a3[j] = 0;        \
                        i64 i = 0;                                                             \
                        for (; i + 4 <= rows; i += 4) {                                        \
                            const T *gr = gm + i * F + f0;                                     \
                            const T x0 = x[i * K + k], x1 = x[(i + 1) * K + k],                \
                                    x2 = x[(i + 2) * K + k], x3 = x[(i + 3) * K + k];          \
                            for (int j = 0; j < 16; j++) {                                     \
                                a0[j] += x0 * gr[j];                                           \
                                a1[j] += x1 * gr[F + j];                                       \
                                a2[j] += x2 * gr[2 * F + j];                                   \
                                a3[j] += x3 * gr[3 * F + j];                                   \
                            }                                                                  \
                        }                                                                      \
                        for (; i < rows; i++)                                                  \
                            for (int j = 0; j < 16; j++)                                       \
                                a0[j] += x[i * K + k] * gm[i * F + f0 + j];                    \
                        for (int j = 0; j < 16; j++)                                           \
                            gw[k * F + f0 + j] += (a0[j] + a1[j]) + (a2[j] + a3[j]);           \
                    }                                                                          \
                }                                                                              \
                for (; f0 < F; f0++)                                                           \
                    for (i64 k = 0; k < K; k++) {                                              \
                        T acc = 0;                                                             \
                        for (i64 i = 0; i < rows; i++) acc += x[i * K + k] * gm[i * F + f0];   \
                        gw[k * F + f0] += acc;                                                 \
                    }                                                                          \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT g, const T *RESTRICT out,          \
                                          const T *RESTRICT cols, T *RESTRICT gw_parts,        \
                                          T *RESTRICT gb_parts, i64 m, i64 K, i64 F,           \
                                          i64 chunk, i64 c_lo, i64 c_hi) {                     \
        switch (F) {                                                                           \
        case 16:                                                                               \
            NAME##_body(g, out, cols, gw_parts, gb_parts, m, K, 16, chunk, c_lo, c_hi);        \
            break;                                                                             \
        case 32:                                                                               \
            NAME##_body(g, out, cols, gw_parts, gb_parts, m, K, 32, chunk, c_lo, c_hi);        \
            break;                                                                             \
        case 64:                                                                               \
            NAME##_body(g, out, cols, gw_parts, gb_parts, m, K, 64, chunk, c_lo, c_hi);        \
            break;                                                                             \
        default: NAME##_body(g, out, cols, gw_parts, gb_parts, m, K, F, chunk, c_lo, c_hi);    \
        }                                                                                      \
    }

/* The embedding's gradient: grad[idx[k], lo:hi] += rows[k, lo:hi] for k in order, as NumPy's
 * add.at does (grad arrives zeroed). A caller splits the columns between threads. */
#define INDEX_ADD(NAME, T)                                                                     \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT grad, const long long *RESTRICT idx,      \
                                          const T *RESTRICT rows, size_t n, size_t dim,        \
                                          size_t lo, size_t hi) {                              \
        for (size_t k = 0; k < n; k++) {                                                       \
            T *dst = grad + (size_t)idx[k] * dim;                                              \
            const T *src = rows + k * dim;                                                     \
            for (size_t j = lo; j < hi; j++) dst[j] += src[j];                                 \
        }                                                                                      \
    }

/* The LSTM's time loop (myelin/ops/recurrent.py, LSTMScan), the operations of its NumPy form
 * between the products and the tanh calls, which stay in NumPy (its tanh is not the C
 * library's, bit for bit). Gates are i, f, c, o, each u wide, in rows of 4u.
 *
 * Forward, one step, after tanh over the pre-activations z (b rows): z = z * scale + shift
 * (the sigmoid's 0.5 + 0.5 tanh for i, f, o), then c_new = f * c + i * g. */
#define LSTM_CELL(NAME, T)                                                                     \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT z, const T *RESTRICT scale,              \
                                          const T *RESTRICT shift, const T *RESTRICT c,        \
                                          T *RESTRICT c_new, size_t b, size_t u) {             \
        for (size_t r = 0; r < b; r++) {                                                       \
            T *zr = z + r * 4 * u;                                                             \
            for (size_t k = 0; k < 4 * u; k++) zr[k] = zr[k] * scale[k] + shift[k];           \
            for (size_t j = 0; j < u; j++)                                                     \
                c_new[r * u + j] = zr[u + j] * c[r * u + j] + zr[j] * zr[2 * u + j];           \
        }                                                                                      \
    }

/* Backward, before the reverse sweep, for all rows (steps x batch) at once: each gate's
 * d(activation)/d(pre-activation) times what it multiplies, and d c / d h = o (1 - tanh(c)^2). */
#define LSTM_FACTORS(NAME, T)                                                                  \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT gates, const T *RESTRICT cells,    \
                                          const T *RESTRICT tanh_c, T *RESTRICT factors,       \
                                          T *RESTRICT to_cell, size_t rows, size_t u) {        \
        for (size_t r = 0; r < rows; r++) {                                                    \
            const T *z = gates + r * 4 * u, *c = cells + r * u, *tc = tanh_c + r * u;          \
            T *fa = factors + r * 4 * u, *dc = to_cell + r * u;                                \
            for (size_t j = 0; j < u; j++) {                                                   \
                T i = z[j], f = z[u + j], g = z[2 * u + j], o = z[3 * u + j], t = tc[j];       \
                fa[j] = g * i * ((T)1 - i);                                                    \
                fa[u + j] = c[j] * f * ((T)1 - f);                                             \
                fa[2 * u + j] = i * ((T)1 - g * g);                                            \
                fa[3 * u + j] = t * o * ((T)1 - o);                                            \
                dc[j] = o * ((T)1 - t * t);                                                    \
            }                                                                                  \
        }                                                                                      \
    }

/* Backward, one step of the reverse sweep (no mask): with dh_c = dh + gout and
 * dc_c = dh_c * to_cell + dc, the step's gate gradients dz = factors * (dc_c, dc_c, dc_c, dh_c)
 * and the cell gradient carried back, dc = dc_c * f. gout and dz are rows of longer arrays
 * (row strides gs and zs); the caller then forms dh = dz @ rk^T. */
#define LSTM_BACK_STEP(NAME, T)                                                                \
    MYELIN_EXPORT MYELIN_CLONES void NAME(const T *RESTRICT gout, size_t gs, const T *RESTRICT dh,\
                                          T *RESTRICT dc, const T *RESTRICT to_cell,           \
                                          const T *RESTRICT factors, const T *RESTRICT gates,  \
                                          T *RESTRICT dz, size_t zs, size_t b, size_t u) {     \
        for (size_t r = 0; r < b; r++) {                                                       \
            const T *fa = factors + r * 4 * u, *f = gates + r * 4 * u + u;                     \
            T *d = dz + r * zs;                                                                \
            for (size_t j = 0; j < u; j++) {                                                   \
                T dhc = dh[r * u + j] + gout[r * gs + j];                                      \
                T dcc = dhc * to_cell[r * u + j];                                              \
                dcc = dcc + dc[r * u + j];                                                     \
                d[j] = fa[j] * dcc;                                                            \
                d[u + j] = fa[u + j] * dcc;                                                    \
                d[2 * u + j] = fa[2 * u + j] * dcc;                                            \
                d[3 * u + j] = fa[3 * u + j] * dhc;                                            \
                dc[r * u + j] = dcc * f[j];                                                    \
            }                                                                                  \
        }                                                                                      \
    }

IM2COL(myelin_im2col_f32, float)
IM2COL(myelin_im2col_f64, double)
COL2IM(myelin_col2im_f32, float)
COL2IM(myelin_col2im_f64, double)
MAXPOOL_FWD(myelin_maxpool_fwd_f32, float)
MAXPOOL_FWD(myelin_maxpool_fwd_f64, double)
MAXPOOL_BWD(myelin_maxpool_bwd_f32, float)
MAXPOOL_BWD(myelin_maxpool_bwd_f64, double)
BIAS_RELU(myelin_bias_relu_f32, float)
BIAS_RELU(myelin_bias_relu_f64, double)
RELU_GRAD(myelin_relu_grad_f32, float)
RELU_GRAD(myelin_relu_grad_f64, double)
SMALLK_FWD(myelin_smallk_fwd_f32, float)
SMALLK_FWD(myelin_smallk_fwd_f64, double)
SMALLK_BWD(myelin_smallk_bwd_f32, float)
SMALLK_BWD(myelin_smallk_bwd_f64, double)
INDEX_ADD(myelin_index_add_f32, float)
INDEX_ADD(myelin_index_add_f64, double)
LSTM_CELL(myelin_lstm_cell_f32, float)
LSTM_CELL(myelin_lstm_cell_f64, double)
LSTM_FACTORS(myelin_lstm_factors_f32, float)
LSTM_FACTORS(myelin_lstm_factors_f64, double)
LSTM_BACK_STEP(myelin_lstm_back_step_f32, float)
LSTM_BACK_STEP(myelin_lstm_back_step_f64, double)


/* ---------------------------------------------------------------- the thread pool and its products
 *
 * myelin/native.py splits large kernel calls over a Python thread pool, whose hand-off (a
 * queue, a wake-up, the GIL passed back and forth) costs ~20 us: more than a mid-size matrix
 * product gains from a second thread. This pool posts a job by bumping a counter its workers
 * watch; each thread claims its own part first (the caller part 0, worker t part t: the same
 * rows land on the same core job after job) and then any part left, so a worker still asleep
 * (or busy elsewhere) costs nothing: the caller runs the parts nobody took. A worker that
 * finished keeps watching for the next job for spin_ns (yielding its core to any thread that
 * wants it), then sleeps on a condition variable. One job runs at a time; a caller finding
 * the pool busy (another thread's job) runs its job alone. Products are split by rows (or
 * columns) of the result, each part one call of NumPy's OpenBLAS gemm (its address passed in
 * by native.py, its thread count set to 1 by the caller). */
#if defined(__unix__) || defined(__APPLE__)
#define MYELIN_POOL 1
#include <pthread.h>
#include <sched.h>
#include <time.h>

#define POOL_MAX 32 /* threads, and parts of a job (one bit each in the claim word) */

typedef void (*part_fn)(const void *job, int part, int parts);

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int workers;                 /* threads started */
    int sleepers;                /* workers waiting on wake (under lock) */
    unsigned long generation;    /* odd while a job's fields are written, bumped to even when it is posted */
    part_fn fn;
    const void *job;
    int parts;
    unsigned long long claim;    /* (the job's tag << 32) | one bit per part taken */
    int done;                    /* parts finished */
    int busy;                    /* a job is running (flag) */
    long spin_ns;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0, 0, 0, 0, 300000};

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#define READY(gen, seen) (((gen) & 1UL) == 0 && (gen) != (seen))
#define TAG(gen) ((unsigned long long)(((gen) >> 1) & 0xffffffffUL))

/* A part of the job tagged `tag` nobody has taken, `own` if it is free (a thread's own part:
 * thread t runs part t when it can, so the rows a thread wrote in one job are the rows it reads
 * in the next, in its own cache), else the first free one; -1 when all are taken (or that job
 * is over). The claim word holds the tag and one bit per part taken. */
static int claim_part(unsigned long long tag, int parts, int own) {
    unsigned long long cur = __atomic_load_n(&pool.claim, __ATOMIC_SEQ_CST);
    for (;;) {
        unsigned long long taken = cur & 0xffffffffULL;
        if ((cur >> 32) != tag || taken == (parts >= 32 ? 0xffffffffULL : (1ULL << parts) - 1)) return -1;
        int p = own;
        if (own >= parts || (taken >> own) & 1ULL)
            for (p = 0; (taken >> p) & 1ULL; p++) {
            }
        if (__atomic_compare_exchange_n(&pool.claim, &cur, cur | (1ULL << p), 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return p;
    }
}

/* Claim and run parts of the job tagged `tag` until none is left, this thread's own first. A
 * part claimed keeps the job alive: its caller waits until every part is done. */
static void run_parts(unsigned long long tag, part_fn fn, const void *job, int parts, int own) {
    int p;
    while ((p = claim_part(tag, parts, own)) >= 0) {
        fn(job, p, parts);
        __atomic_add_fetch(&pool.done, 1, __ATOMIC_SEQ_CST);
    }
}

static unsigned long started[POOL_MAX]; /* the generation when each worker was started */
static __thread int on_worker;           /* 1 on the pool's threads */

static void *worker(void *arg) {
    int me = (int)(size_t)arg; /* 1, 2, ...: part 0 is the caller's own */
    unsigned long seen = started[me], now;
    on_worker = 1;
    for (;;) {
        now = __atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST);
        if (!READY(now, seen)) {
            long until = now_ns() + __atomic_load_n(&pool.spin_ns, __ATOMIC_RELAXED);
            int polls = 0;
            while (!READY(now = __atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST), seen)) {
                if (++polls < 64) {
                    relax();
                    continue;
                }
                polls = 0;
                if (now_ns() > until) break;
                sched_yield(); /* a thread that wants this core (another pool's part) gets it */
            }
            if (!READY(now, seen)) {
                pthread_mutex_lock(&pool.lock);
                pool.sleepers++;
                while (!READY(now = __atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST), seen))
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pool.sleepers--;
                pthread_mutex_unlock(&pool.lock);
            }
        }
        int parts = __atomic_load_n(&pool.parts, __ATOMIC_SEQ_CST);
        part_fn fn = __atomic_load_n(&pool.fn, __ATOMIC_SEQ_CST);
        const void *job = __atomic_load_n(&pool.job, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST) != now) continue; /* a newer job: look again */
        seen = now;
        run_parts(TAG(now), fn, job, parts, me); /* (nothing, if the caller has taken every part already) */
    }
    return NULL;
}

static void pool_after_fork(void) { /* a forked child has none of the workers */
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
    pool.lock = lock;
    pool.wake = wake;
    pool.workers = pool.sleepers = pool.busy = 0;
}

/* fn(job, p, parts) for every p < parts, on the caller's thread and up to parts - 1 workers. */
static void pool_run(part_fn fn, const void *job, int parts) {
    static int fork_hook = 0;
    if (parts > POOL_MAX) parts = POOL_MAX;
    if (parts < 2 || __atomic_exchange_n(&pool.busy, 1, __ATOMIC_ACQUIRE)) {
        for (int p = 0; p < parts; p++) fn(job, p, parts);
        return;
    }
    if (!fork_hook) {
        pthread_atfork(NULL, NULL, pool_after_fork);
        fork_hook = 1;
    }
    while (pool.workers < parts - 1 && pool.workers < POOL_MAX - 1) {
        pthread_t thread;
        started[pool.workers + 1] = __atomic_load_n(&pool.generation, __ATOMIC_SEQ_CST);
        if (pthread_create(&thread, NULL, worker, (void *)(size_t)(pool.workers + 1)) != 0) break;
        pthread_detach(thread);
        pool.workers++;
    }
    unsigned long gen = __atomic_add_fetch(&pool.generation, 1, __ATOMIC_SEQ_CST); /* odd: writing */
    unsigned long long tag = TAG(gen + 1);
    __atomic_store_n(&pool.fn, fn, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.job, job, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.parts, parts, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.done, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.claim, tag << 32, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&pool.generation, 1, __ATOMIC_SEQ_CST); /* even: posted */
    pthread_mutex_lock(&pool.lock);
    if (pool.sleepers) pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_parts(tag, fn, job, parts, 0);
    while (__atomic_load_n(&pool.done, __ATOMIC_SEQ_CST) < parts) relax();
    __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
}
#endif

/* The pool running a caller's function on ranges of items: call(job, lo, hi) for `parts` ranges
 * of [0, items) at once (native.py passes a ctypes callback, which takes the GIL for the Python
 * around each part and lets it go inside the kernels that part calls; on_worker tells it the
 * part runs on one of the pool's threads, not the caller's). */
typedef void (*range_fn)(i64 job, i64 lo, i64 hi, int on_worker);

typedef struct {
    range_fn call;
    i64 job, items;
} range_job;

static void range_part(const void *arg, int part, int parts) {
    const range_job *j = (const range_job *)arg;
    i64 lo = j->items * part / parts, hi = j->items * (part + 1) / parts;
#ifdef MYELIN_POOL
    if (hi > lo) j->call(j->job, lo, hi, on_worker);
#else
    if (hi > lo) j->call(j->job, lo, hi, 0);
#endif
}

MYELIN_EXPORT void myelin_pool_ranges(range_fn call, i64 job, i64 items, int parts) {
    range_job j = {call, job, items};
#ifdef MYELIN_POOL
    pool_run(range_part, &j, parts);
#else
    for (int p = 0; p < parts; p++) range_part(&j, p, parts);
#endif
}

/* How long (microseconds) a worker watches for the next job before it sleeps; 0 when this
 * build has no pool (the caller then uses its own threads). */
MYELIN_EXPORT long myelin_pool_spin(long us) {
#ifdef MYELIN_POOL
    if (us >= 0) __atomic_store_n(&pool.spin_ns, us * 1000L, __ATOMIC_RELAXED);
    return __atomic_load_n(&pool.spin_ns, __ATOMIC_RELAXED) / 1000L + 1;
#else
    (void)us;
    return 0;
#endif
}

/* The elementwise passes between a run of Dense layers' products (see myelin_dense_chain_fwd). */
#define CHAIN_PASSES(NAME, T)                                                                  \
    /* out += bias, then the ReLU (BIAS_RELU; without a bias NumPy's maximum alone); rows ld apart */ \
    static MYELIN_CLONES void NAME##_bias_act(T *RESTRICT out, const T *RESTRICT bias, i64 m, i64 n, \
                                              i64 ld, int relu) {                              \
        for (i64 r = 0; r < m; r++) {                                                          \
            T *o = out + r * ld;                                                               \
            if (bias && relu)                                                                  \
                for (i64 j = 0; j < n; j++) {                                                  \
                    T v = o[j] + bias[j];                                                      \
                    o[j] = NP_MAX(v, (T)0);                                                    \
                }                                                                              \
            else if (bias)                                                                     \
                for (i64 j = 0; j < n; j++) o[j] += bias[j];                                   \
            else if (relu)                                                                     \
                for (i64 j = 0; j < n; j++) o[j] = NP_MAX(o[j], (T)0);                         \
        }                                                                                      \
    }                                                                                          \
    /* res = grad * (out > 0) (RELU_GRAD) */                                                   \
    static MYELIN_CLONES void NAME##_relu_grad(const T *RESTRICT grad, const T *RESTRICT out,                \
                                 T *RESTRICT res, i64 size) {                                  \
        for (i64 i = 0; i < size; i++) res[i] = grad[i] * (T)(out[i] > 0);                     \
    }

CHAIN_PASSES(chain_f32, float)
CHAIN_PASSES(chain_f64, double)

/* The CBLAS gemm of the BLAS NumPy uses: 32- or 64-bit integers, float or double. */
typedef void (*sgemm32)(int, int, int, int, int, int, float, const float *, int, const float *,
                        int, float, float *, int);
typedef void (*sgemm64)(int, int, int, i64, i64, i64, float, const float *, i64, const float *,
                        i64, float, float *, i64);
typedef void (*dgemm32)(int, int, int, int, int, int, double, const double *, int, const double *,
                        int, double, double *, int);
typedef void (*dgemm64)(int, int, int, i64, i64, i64, double, const double *, i64,
                        const double *, i64, double, double *, i64);

typedef struct {
    void *gemm;      /* the CBLAS function */
    int ilp64, dbl;  /* its integer width (64: 1), its type (double: 1) */
    int ta, tb;      /* CBLAS transposes of a and b (111 none, 112 transposed) */
    i64 m, n, k, lda, ldb, ldc;
    const char *a, *b;
    char *c;
    int by;          /* split the rows of c (1), its columns (0), or the sum over k (2: part p writes
                        its partial product into c + p m n, a scratch of parts m-by-n blocks) */
    const char *bias; /* then, rows or columns split (or one part), each part's block of c += bias */
    int relu;         /* and the ReLU (the chain's layers; 0 and NULL for a plain product) */
} gemm_job;

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

static void gemm_part(const void *arg, int part, int parts) {
    const gemm_job *j = (const gemm_job *)arg;
    i64 items = j->by == 1 ? j->m : j->by == 0 ? j->n : j->k;
    i64 lo = items * part / parts, hi = items * (part + 1) / parts;
    size_t es = j->dbl ? sizeof(double) : sizeof(float);
    const char *a = j->a, *b = j->b;
    char *c = j->c;
    i64 m = j->m, n = j->n, k = j->k;
    if (j->by == 1) { /* rows lo..hi of a (and of c) */
        a += (size_t)(j->ta == NO_TRANS ? lo * j->lda : lo) * es;
        c += (size_t)(lo * j->ldc) * es;
        m = hi - lo;
    } else if (j->by == 0) { /* columns lo..hi of b (and of c) */
        b += (size_t)(j->tb == NO_TRANS ? lo : lo * j->ldb) * es;
        c += (size_t)lo * es;
        n = hi - lo;
    } else { /* terms lo..hi of the sum: columns of a, rows of b, into this part's block */
        a += (size_t)(j->ta == NO_TRANS ? lo : lo * j->lda) * es;
        b += (size_t)(j->tb == NO_TRANS ? lo * j->ldb : lo) * es;
        c += (size_t)(part * m * n) * es;
        k = hi - lo;
        if (k <= 0) { /* (more parts than terms) a zero block */
            for (i64 i = 0; i < m * n; i++) {
                if (j->dbl) ((double *)c)[i] = 0;
                else ((float *)c)[i] = 0;
            }
            return;
        }
    }
    if (hi <= lo) return;
    if (j->dbl && j->ilp64)
        ((dgemm64)j->gemm)(ROW_MAJOR, j->ta, j->tb, m, n, k, 1.0, (const double *)a, j->lda,
                           (const double *)b, j->ldb, 0.0, (double *)c, j->ldc);
    else if (j->dbl)
        ((dgemm32)j->gemm)(ROW_MAJOR, j->ta, j->tb, (int)m, (int)n, (int)k, 1.0,
                           (const double *)a, (int)j->lda, (const double *)b, (int)j->ldb, 0.0,
                           (double *)c, (int)j->ldc);
    else if (j->ilp64)
        ((sgemm64)j->gemm)(ROW_MAJOR, j->ta, j->tb, m, n, k, 1.0f, (const float *)a, j->lda,
                           (const float *)b, j->ldb, 0.0f, (float *)c, j->ldc);
    else
        ((sgemm32)j->gemm)(ROW_MAJOR, j->ta, j->tb, (int)m, (int)n, (int)k, 1.0f,
                           (const float *)a, (int)j->lda, (const float *)b, (int)j->ldb, 0.0f,
                           (float *)c, (int)j->ldc);
    if ((j->bias || j->relu) && j->by != 2) { /* while this part's block is in cache */
        const char *bias = j->bias && j->by == 0 ? j->bias + (size_t)lo * es : j->bias;
        if (j->dbl)
            chain_f64_bias_act((double *)c, (const double *)bias, m, n, j->ldc, j->relu);
        else
            chain_f32_bias_act((float *)c, (const float *)bias, m, n, j->ldc, j->relu);
    }
}

/* c (m, n, row stride ldc) = a @ b in `parts` parts at once (rows of c when by is 1, columns
 * when 0; when 2, part p writes the sum over its range of k into block p of c, parts m-by-n
 * blocks, and the caller adds them), each one call of `gemm`; a is (m, k) (ta 111, row stride
 * lda) or stored (k, m) (ta 112), b likewise (k, n) or stored (n, k). */
MYELIN_EXPORT void myelin_pool_gemm(void *gemm, int ilp64, int dbl, int ta, int tb, i64 m, i64 n,
                                    i64 k, const void *a, i64 lda, const void *b, i64 ldb,
                                    void *c, i64 ldc, int by, int parts) {
    gemm_job job = {gemm, ilp64, dbl, ta, tb, m, n, k, lda, ldb, ldc,
                    (const char *)a, (const char *)b, (char *)c, by, NULL, 0};
#ifdef MYELIN_POOL
    pool_run(gemm_part, &job, parts);
#else
    for (int p = 0; p < parts; p++) gemm_part(&job, p, parts);
#endif
}

/* ---------------------------------------------------------------- a run of Dense layers
 *
 * A recorded step whose Dense layers follow one another (myelin/ops/dense_chain.py) runs
 * their forward pass in one call and their backward pass in another, instead of a Python
 * node per layer. Each product is the BLAS call NumPy's matmul makes for it (gemm with the
 * same transposes and leading dimensions; gemv for a bias gradient, the ones vector times
 * the gradient), or, where native.matmul would split it over the pool, that very split;
 * between them the passes of BIAS_RELU and RELU_GRAD. So the numbers are the ordinary
 * replay's bit for bit. desc is CHAIN_HEAD numbers, then CHAIN_FIELDS per layer, in the
 * order of the CH_* and L_* names below (dense_chain.py writes them). */
enum { CH_LAYERS, CH_DBL, CH_ILP64, CH_GEMM, CH_GEMV, CH_ONES, CH_HEAD = 8 };
enum {
    L_M, L_K, L_N,                 /* batch rows, inputs, units */
    L_X, L_XT, L_XLD, L_XTT, L_XTLD, /* the input, its CBLAS transpose code and leading dimension, and x.T's */
    L_W, L_B, L_OUT, L_RELU,       /* kernel (k, n) C-contiguous, bias (0: none), output (m, n), ReLU (1) */
    L_G, L_GA, L_GK, L_GB, L_GX,   /* gradients: incoming (m, n); after the ReLU (scratch); kernel, bias, input (0: not wanted) */
    L_FWD, L_GXP = L_FWD + 3, L_GKP = L_FWD + 6, /* each product's split: parts, by, scratch (parts 1: one call) */
    CHAIN_FIELDS = L_FWD + 9
};

typedef void (*sgemv32)(int, int, int, int, float, const float *, int, const float *, int, float,
                        float *, int);
typedef void (*sgemv64)(int, int, i64, i64, float, const float *, i64, const float *, i64, float,
                        float *, i64);
typedef void (*dgemv32)(int, int, int, int, double, const double *, int, const double *, int,
                        double, double *, int);
typedef void (*dgemv64)(int, int, i64, i64, double, const double *, i64, const double *, i64,
                        double, double *, i64);

/* c (m, n, C-contiguous) = a @ b, as native.matmul computes it: split[0] parts by split[1]
 * (rows 1, columns 0, the sum 2: partial blocks in scratch split[2], then added in order, as
 * NumPy's sum over their axis adds them), or one call when split[0] is 1. */
static void chain_product(const i64 *h, int ta, int tb, i64 m, i64 n, i64 k, const void *a,
                          i64 lda, const void *b, i64 ldb, void *c, const i64 *split,
                          const void *bias, int relu) {
    int parts = (int)split[0], by = (int)split[1], dbl = (int)h[CH_DBL];
    gemm_job job = {(void *)h[CH_GEMM], (int)h[CH_ILP64], dbl, ta, tb, m, n, k, lda, ldb, n,
                    (const char *)a, (const char *)b, (char *)c, parts > 1 ? by : 1,
                    (const char *)bias, relu};
    if (parts > 1) {
        void *target = by == 2 ? (void *)split[2] : c;
        job.c = (char *)target;
#ifdef MYELIN_POOL
        pool_run(gemm_part, &job, parts);
#else
        for (int p = 0; p < parts; p++) gemm_part(&job, p, parts);
#endif
        if (by == 2) {
            i64 size = m * n;
            for (int p = 0; p < parts; p++)
                for (i64 i = 0; i < size; i++) {
                    if (dbl) {
                        double *cd = (double *)c, *s = (double *)target + p * size;
                        cd[i] = p ? cd[i] + s[i] : s[i];
                    } else {
                        float *cf = (float *)c, *s = (float *)target + p * size;
                        cf[i] = p ? cf[i] + s[i] : s[i];
                    }
                }
            if (bias || relu) {
                if (dbl) chain_f64_bias_act((double *)c, (const double *)bias, m, n, n, relu);
                else chain_f32_bias_act((float *)c, (const float *)bias, m, n, n, relu);
            }
        }
        return;
    }
    gemm_part(&job, 0, 1);
}

/* gb (n) = ones (m) @ ga (m, n): NumPy's vector-matrix gemv (row-major, transposed). */
static void chain_col_sum(const i64 *h, i64 m, i64 n, const void *ga, void *gb) {
    const void *ones = (const void *)h[CH_ONES], *gemv = (const void *)h[CH_GEMV];
    if (h[CH_DBL] && h[CH_ILP64])
        ((dgemv64)gemv)(ROW_MAJOR, 112, m, n, 1.0, ga, n, ones, 1, 0.0, gb, 1);
    else if (h[CH_DBL])
        ((dgemv32)gemv)(ROW_MAJOR, 112, (int)m, (int)n, 1.0, ga, (int)n, ones, 1, 0.0, gb, 1);
    else if (h[CH_ILP64])
        ((sgemv64)gemv)(ROW_MAJOR, 112, m, n, 1.0f, ga, n, ones, 1, 0.0f, gb, 1);
    else
        ((sgemv32)gemv)(ROW_MAJOR, 112, (int)m, (int)n, 1.0f, ga, (int)n, ones, 1, 0.0f, gb, 1);
}


/* The forward pass: layer by layer, out = x @ kernel, then bias and activation in place, each part of a
 * split product on its own block while it is in cache. */
MYELIN_EXPORT void myelin_dense_chain_fwd(const i64 *desc) {
    for (i64 l = 0; l < desc[CH_LAYERS]; l++) {
        const i64 *d = desc + CH_HEAD + l * CHAIN_FIELDS;
        i64 m = d[L_M], k = d[L_K], n = d[L_N];
        chain_product(desc, (int)d[L_XT], NO_TRANS, m, n, k, (const void *)d[L_X], d[L_XLD],
                      (const void *)d[L_W], n, (void *)d[L_OUT], d + L_FWD, (const void *)d[L_B],
                      (int)d[L_RELU]);
    }
}

/* The backward pass, last layer first: the gradient through the ReLU (read off the output),
 * then the input's (g @ kernel.T, the layer below's incoming gradient), the kernel's
 * (x.T @ g) and the bias's (ones @ g), each only where its pointer is set. */
MYELIN_EXPORT void myelin_dense_chain_bwd(const i64 *desc) {
    for (i64 l = desc[CH_LAYERS] - 1; l >= 0; l--) {
        const i64 *d = desc + CH_HEAD + l * CHAIN_FIELDS;
        i64 m = d[L_M], k = d[L_K], n = d[L_N];
        const void *g = (const void *)d[L_G];
        if (d[L_RELU]) {
            if (desc[CH_DBL])
                chain_f64_relu_grad((const double *)g, (const double *)d[L_OUT], (double *)d[L_GA], m * n);
            else
                chain_f32_relu_grad((const float *)g, (const float *)d[L_OUT], (float *)d[L_GA], m * n);
            g = (const void *)d[L_GA];
        }
        if (d[L_GX])
            chain_product(desc, NO_TRANS, 112, m, k, n, g, n, (const void *)d[L_W], n,
                          (void *)d[L_GX], d + L_GXP, NULL, 0);
        if (d[L_GK])
            chain_product(desc, (int)d[L_XTT], NO_TRANS, k, n, m, (const void *)d[L_X], d[L_XTLD],
                          g, n, (void *)d[L_GK], d + L_GKP, NULL, 0);
        if (d[L_GB]) chain_col_sum(desc, m, n, g, (void *)d[L_GB]);
    }
}

/* The version native.py checks before using the file (a stale build is not used). */
MYELIN_EXPORT int myelin_native_version(void) { return 7; }

#if defined(_WIN32)
/* Windows links every extension with this export; the file is never imported as a module. */
MYELIN_EXPORT void *PyInit__native(void) { return NULL; }
#endif
